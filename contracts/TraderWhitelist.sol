// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ITraderWhitelist} from "./interfaces/ITraderWhitelist.sol";
import {USCC} from "./libraries/USCC.sol";

/**
 * @title TraderWhitelist
 * @notice The customs trader whitelist: credit level, scopes, validity window and evidence per trader
 * (keyed by USCC), written only by keys holding CUSTOMS actively in the participant registry, directly
 * or relayed with the officer's EIP-712 signature.
 * @dev No admin, no upgrade: the registry decides who is an officer. Every change emits one event
 * carrying the entry's new version, so the history can be rebuilt from events alone (see
 * {ITraderWhitelist}). EIP-712 domain: name "TraderWhitelist", version "1"; relayed writes carry a
 * per-officer sequential nonce and a deadline.
 */
contract TraderWhitelist is ITraderWhitelist, EIP712, ERC165 {
    /// @notice The registry role a key needs to write (same value as the registry's CUSTOMS_ROLE).
    bytes32 public constant CUSTOMS_ROLE = keccak256("CUSTOMS");
    /// @notice Longest reason accepted for a suspension, its lifting or a revocation, in bytes.
    uint256 public constant MAX_REASON_LENGTH = 256;

    /// @notice EIP-712 type of a relayed {setEntry}.
    bytes32 public constant SET_ENTRY_TYPEHASH = keccak256(
        "SetEntry(bytes18 uscc,uint8 level,uint256 scopes,uint64 validFrom,uint64 validUntil,bytes32 dossierHash,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a relayed {suspendEntry}.
    bytes32 public constant SUSPEND_ENTRY_TYPEHASH =
        keccak256("SuspendEntry(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a relayed {liftSuspension}.
    bytes32 public constant LIFT_SUSPENSION_TYPEHASH =
        keccak256("LiftSuspension(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a relayed {revokeEntry}.
    bytes32 public constant REVOKE_ENTRY_TYPEHASH =
        keccak256("RevokeEntry(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a relayed {repairCredit}.
    bytes32 public constant REPAIR_CREDIT_TYPEHASH =
        keccak256("RepairCredit(bytes18 uscc,uint8 level,bytes32 dossierHash,uint256 nonce,uint256 deadline)");

    /// @inheritdoc ITraderWhitelist
    IParticipantRegistry public immutable registry;

    /// @dev Storage form of an entry: the first six fields share one slot; four slots in all.
    struct StoredEntry {
        CreditLevel level;
        EntryStatus status;
        uint64 validFrom;
        uint64 validUntil;
        uint32 version;
        uint64 updatedAtBlock;
        uint256 scopes;
        bytes32 dossierHash;
        string statusReason;
    }

    mapping(bytes18 uscc => StoredEntry) private _entries;
    mapping(address officer => uint256) private _nonces;

    /**
     * @notice Binds the whitelist to a participant registry, for good.
     * @param registry_ a contract that reports (ERC-165) the {IParticipantRegistry} interface
     */
    constructor(IParticipantRegistry registry_) EIP712("TraderWhitelist", "1") {
        if (!ERC165Checker.supportsInterface(address(registry_), type(IParticipantRegistry).interfaceId)) {
            revert Whitelist__InvalidRegistry(address(registry_));
        }
        registry = registry_;
    }

    // ------------------------------------------------------------------ direct writes

    /// @inheritdoc ITraderWhitelist
    function setEntry(EntryInput calldata input) external {
        _requireCustoms(msg.sender);
        _set(input, msg.sender);
    }

    /// @inheritdoc ITraderWhitelist
    function setEntries(EntryInput[] calldata inputs) external {
        _requireCustoms(msg.sender);
        uint256 count = inputs.length;
        if (count == 0) revert Whitelist__EmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            _set(inputs[i], msg.sender);
        }
    }

    /// @inheritdoc ITraderWhitelist
    function suspendEntry(bytes18 uscc, string calldata reason) external {
        _requireCustoms(msg.sender);
        _suspend(uscc, reason, msg.sender);
    }

    /// @inheritdoc ITraderWhitelist
    function liftSuspension(bytes18 uscc, string calldata reason) external {
        _requireCustoms(msg.sender);
        _lift(uscc, reason, msg.sender);
    }

    /// @inheritdoc ITraderWhitelist
    function revokeEntry(bytes18 uscc, string calldata reason) external {
        _requireCustoms(msg.sender);
        _revoke(uscc, reason, msg.sender);
    }

    /// @inheritdoc ITraderWhitelist
    function repairCredit(bytes18 uscc, CreditLevel level, bytes32 dossierHash) external {
        _requireCustoms(msg.sender);
        _repair(uscc, level, dossierHash, msg.sender);
    }

    // ------------------------------------------------------------------ relayed writes

    /// @inheritdoc ITraderWhitelist
    function setEntryWithSig(
        EntryInput calldata input,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                SET_ENTRY_TYPEHASH,
                input.uscc,
                uint8(input.level),
                input.scopes,
                input.validFrom,
                input.validUntil,
                input.dossierHash,
                nonce,
                deadline
            )
        );
        _useSignature(structHash, officer, nonce, deadline, signature);
        _set(input, officer);
    }

    /// @inheritdoc ITraderWhitelist
    function suspendEntryWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(_reasonStructHash(SUSPEND_ENTRY_TYPEHASH, uscc, reason, nonce, deadline), officer, nonce, deadline, signature);
        _suspend(uscc, reason, officer);
    }

    /// @inheritdoc ITraderWhitelist
    function liftSuspensionWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(_reasonStructHash(LIFT_SUSPENSION_TYPEHASH, uscc, reason, nonce, deadline), officer, nonce, deadline, signature);
        _lift(uscc, reason, officer);
    }

    /// @inheritdoc ITraderWhitelist
    function revokeEntryWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(_reasonStructHash(REVOKE_ENTRY_TYPEHASH, uscc, reason, nonce, deadline), officer, nonce, deadline, signature);
        _revoke(uscc, reason, officer);
    }

    /// @inheritdoc ITraderWhitelist
    function repairCreditWithSig(
        bytes18 uscc,
        CreditLevel level,
        bytes32 dossierHash,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash =
            keccak256(abi.encode(REPAIR_CREDIT_TYPEHASH, uscc, uint8(level), dossierHash, nonce, deadline));
        _useSignature(structHash, officer, nonce, deadline, signature);
        _repair(uscc, level, dossierHash, officer);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITraderWhitelist
    function getEntry(bytes18 uscc) external view returns (Entry memory) {
        return _toEntry(uscc);
    }

    /// @inheritdoc ITraderWhitelist
    function getEntries(bytes18[] calldata usccs) external view returns (Entry[] memory entries) {
        entries = new Entry[](usccs.length);
        for (uint256 i = 0; i < usccs.length; ++i) {
            entries[i] = _toEntry(usccs[i]);
        }
    }

    /// @inheritdoc ITraderWhitelist
    function checkTrader(bytes18 uscc, uint256 requiredScopes, uint64 at)
        external
        view
        returns (Verdict verdict, Entry memory entry)
    {
        entry = _toEntry(uscc);
        verdict = _verdict(entry, requiredScopes, at);
    }

    /// @inheritdoc ITraderWhitelist
    function isAllowed(bytes18 uscc, uint256 requiredScopes) external view returns (bool) {
        return _verdict(_toEntry(uscc), requiredScopes, uint64(block.timestamp)) == Verdict.Allowed;
    }

    /// @inheritdoc ITraderWhitelist
    function nonces(address officer) external view returns (uint256) {
        return _nonces[officer];
    }

    /// @inheritdoc ITraderWhitelist
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice ERC-165: {ITraderWhitelist} and ERC-165 itself.
    /// @param interfaceId the interface identifier
    /// @return true if this contract implements it
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ITraderWhitelist).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _requireCustoms(address account) private view {
        if (!registry.hasActiveRole(account, CUSTOMS_ROLE)) revert Whitelist__Unauthorized(account, CUSTOMS_ROLE);
    }

    /// @dev Deadline, then nonce, then signature, then the officer's role; consumes the nonce.
    function _useSignature(bytes32 structHash, address officer, uint256 nonce, uint256 deadline, bytes calldata signature)
        private
    {
        if (block.timestamp > deadline) revert Whitelist__SignatureExpired(deadline, block.timestamp);
        uint256 expected = _nonces[officer];
        if (nonce != expected) revert Whitelist__InvalidNonce(officer, expected, nonce);
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (error != ECDSA.RecoverError.NoError || recovered != officer) {
            revert Whitelist__InvalidSignature(officer, recovered);
        }
        _requireCustoms(officer);
        _nonces[officer] = expected + 1;
    }

    function _reasonStructHash(bytes32 typeHash, bytes18 uscc, string calldata reason, uint256 nonce, uint256 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(typeHash, uscc, keccak256(bytes(reason)), nonce, deadline));
    }

    function _set(EntryInput calldata input, address officer) private {
        bytes18 uscc = input.uscc;
        if (!USCC.isValid(uscc)) revert Whitelist__InvalidUscc(uscc);
        CreditLevel level = input.level;
        if (level == CreditLevel.None) revert Whitelist__InvalidLevel(uscc);
        if (input.validFrom >= input.validUntil) revert Whitelist__InvalidValidity(uscc, input.validFrom, input.validUntil);
        if (input.dossierHash == bytes32(0)) revert Whitelist__ZeroDossierHash(uscc);
        if (level == CreditLevel.Dishonest && input.scopes != 0) {
            revert Whitelist__DishonestWithScopes(uscc, input.scopes);
        }

        StoredEntry storage e = _entries[uscc];
        EntryStatus status = e.status;
        if (status == EntryStatus.None || status == EntryStatus.Revoked) {
            if (status == EntryStatus.Revoked && bytes(e.statusReason).length != 0) delete e.statusReason;
            status = EntryStatus.Active;
        }
        uint32 version = e.version + 1;
        e.level = level;
        e.status = status;
        e.validFrom = input.validFrom;
        e.validUntil = input.validUntil;
        e.version = version;
        e.updatedAtBlock = uint64(block.number);
        e.scopes = input.scopes;
        e.dossierHash = input.dossierHash;
        emit EntrySet(
            uscc, version, level, status, input.scopes, input.validFrom, input.validUntil, input.dossierHash, officer
        );
    }

    function _suspend(bytes18 uscc, string calldata reason, address officer) private {
        StoredEntry storage e = _listed(uscc);
        if (e.status != EntryStatus.Active) revert Whitelist__NotActive(uscc, e.status);
        uint32 version = _changeStatus(e, EntryStatus.Suspended, reason);
        emit EntrySuspended(uscc, version, reason, officer);
    }

    function _lift(bytes18 uscc, string calldata reason, address officer) private {
        StoredEntry storage e = _listed(uscc);
        if (e.status != EntryStatus.Suspended) revert Whitelist__NotSuspended(uscc, e.status);
        uint32 version = _changeStatus(e, EntryStatus.Active, reason);
        emit SuspensionLifted(uscc, version, reason, officer);
    }

    function _revoke(bytes18 uscc, string calldata reason, address officer) private {
        StoredEntry storage e = _listed(uscc);
        if (e.status == EntryStatus.Revoked) revert Whitelist__EntryRevoked(uscc);
        uint32 version = _changeStatus(e, EntryStatus.Revoked, reason);
        emit EntryRevoked(uscc, version, reason, officer);
    }

    function _repair(bytes18 uscc, CreditLevel level, bytes32 dossierHash, address officer) private {
        StoredEntry storage e = _listed(uscc);
        if (e.status == EntryStatus.Revoked) revert Whitelist__EntryRevoked(uscc);
        CreditLevel previous = e.level;
        if (previous != CreditLevel.Dishonest) revert Whitelist__NotDishonest(uscc, previous);
        if (level == CreditLevel.None || level == CreditLevel.Dishonest) revert Whitelist__InvalidRepairLevel(uscc, level);
        if (dossierHash == bytes32(0)) revert Whitelist__ZeroDossierHash(uscc);
        uint32 version = e.version + 1;
        e.level = level;
        e.version = version;
        e.updatedAtBlock = uint64(block.number);
        e.dossierHash = dossierHash;
        emit CreditRepaired(uscc, version, previous, level, dossierHash, officer);
    }

    function _changeStatus(StoredEntry storage e, EntryStatus status, string calldata reason)
        private
        returns (uint32 version)
    {
        uint256 length = bytes(reason).length;
        if (length == 0 || length > MAX_REASON_LENGTH) revert Whitelist__InvalidReasonLength(length);
        version = e.version + 1;
        e.status = status;
        e.version = version;
        e.updatedAtBlock = uint64(block.number);
        e.statusReason = reason;
    }

    function _listed(bytes18 uscc) private view returns (StoredEntry storage e) {
        e = _entries[uscc];
        if (e.status == EntryStatus.None) revert Whitelist__UnknownTrader(uscc);
    }

    function _toEntry(bytes18 uscc) private view returns (Entry memory entry) {
        StoredEntry storage e = _entries[uscc];
        if (e.status == EntryStatus.None) return entry;
        entry = Entry({
            uscc: uscc,
            level: e.level,
            status: e.status,
            scopes: e.scopes,
            validFrom: e.validFrom,
            validUntil: e.validUntil,
            dossierHash: e.dossierHash,
            version: e.version,
            updatedAtBlock: e.updatedAtBlock,
            statusReason: e.statusReason
        });
    }

    function _verdict(Entry memory entry, uint256 requiredScopes, uint64 at) private pure returns (Verdict) {
        if (entry.status == EntryStatus.None) return Verdict.Unknown;
        if (entry.status == EntryStatus.Revoked) return Verdict.Revoked;
        if (entry.status == EntryStatus.Suspended) return Verdict.Suspended;
        if (entry.level == CreditLevel.Dishonest) return Verdict.Dishonest;
        if (at < entry.validFrom) return Verdict.NotYetValid;
        if (at >= entry.validUntil) return Verdict.Expired;
        if ((entry.scopes & requiredScopes) != requiredScopes) return Verdict.ScopeNotHeld;
        return Verdict.Allowed;
    }
}
