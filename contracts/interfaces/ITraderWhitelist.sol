// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/**
 * @title ITraderWhitelist
 * @notice The customs-maintained whitelist of traders: per trader (keyed by its USCC, the 18-character
 * unified social credit code of GB 32100-2015) a credit level, a set of scopes (trade conveniences it
 * holds), a validity window, the hash of the evidence dossier and a version that increments on every
 * change. Only keys holding CUSTOMS actively in the {IParticipantRegistry} write, either directly or
 * through a relayer that submits an officer's EIP-712 signature.
 * @dev Every change emits exactly one event carrying the entry's new version, so an entry's full history
 * (and its current state) can be rebuilt from the events alone:
 * - {EntrySet} carries every field of the entry after the change, status included;
 * - {EntrySuspended}, {SuspensionLifted} and {EntryRevoked} change the status only;
 * - {CreditRepaired} changes the credit level and the dossier hash only.
 * A USCC is passed as `bytes18`: its 18 ASCII characters. Scopes are a bit set: bit 0 OFFSHORE_TRADE,
 * bit 1 EXPEDITED_CLEARANCE; higher bits are accepted and reserved for scopes defined later.
 */
interface ITraderWhitelist {
    /// @notice Credit level of a trader. `None` is never stored for a listed trader.
    enum CreditLevel {
        None,
        AdvancedCertified,
        General,
        Dishonest
    }

    /// @notice Lifecycle of an entry. `None`: the trader was never listed.
    enum EntryStatus {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice What {checkTrader} concludes, first reason first (see its NatSpec for the order).
    enum Verdict {
        Allowed,
        Unknown,
        Revoked,
        Suspended,
        Dishonest,
        NotYetValid,
        Expired,
        ScopeNotHeld
    }

    /**
     * @notice The content of an entry as an officer writes it ({setEntry}, {setEntries}).
     * @param uscc the trader's USCC, 18 ASCII characters with a valid check character
     * @param level the credit level, not `None`
     * @param scopes the scopes held, a bit set; must be zero for a `Dishonest` trader
     * @param validFrom first second (unix time) of validity
     * @param validUntil first second (unix time) after validity; greater than `validFrom`
     * @param dossierHash hash of the evidence dossier behind the decision, not zero
     */
    struct EntryInput {
        bytes18 uscc;
        CreditLevel level;
        uint256 scopes;
        uint64 validFrom;
        uint64 validUntil;
        bytes32 dossierHash;
    }

    /**
     * @notice An entry as the views return it.
     * @param uscc the trader's USCC (zero for a trader never listed)
     * @param level the credit level
     * @param status the lifecycle status
     * @param scopes the scopes held, a bit set
     * @param validFrom first second (unix time) of validity
     * @param validUntil first second (unix time) after validity
     * @param dossierHash hash of the evidence dossier of the last {EntrySet} or {CreditRepaired}
     * @param version number of changes so far (1 after the first {EntrySet}); 0 if never listed
     * @param updatedAtBlock the block of the last change
     * @param statusReason the reason given with the last suspension, lifting or revocation ("" if none since listing)
     */
    struct Entry {
        bytes18 uscc;
        CreditLevel level;
        EntryStatus status;
        uint256 scopes;
        uint64 validFrom;
        uint64 validUntil;
        bytes32 dossierHash;
        uint32 version;
        uint64 updatedAtBlock;
        string statusReason;
    }

    /// @notice An entry was created or its content replaced; `status` is the status after the change.
    event EntrySet(
        bytes18 indexed uscc,
        uint32 version,
        CreditLevel level,
        EntryStatus status,
        uint256 scopes,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 dossierHash,
        address indexed officer
    );
    /// @notice An active entry was suspended (its scopes stop applying until the suspension is lifted).
    event EntrySuspended(bytes18 indexed uscc, uint32 version, string reason, address indexed officer);
    /// @notice A suspension was lifted: the entry is active again, unchanged otherwise.
    event SuspensionLifted(bytes18 indexed uscc, uint32 version, string reason, address indexed officer);
    /// @notice An entry was revoked: the trader is off the list until an officer lists it again ({EntrySet}).
    event EntryRevoked(bytes18 indexed uscc, uint32 version, string reason, address indexed officer);
    /// @notice A dishonest trader's credit was restored to `level` after rectification, on the evidence `dossierHash`.
    event CreditRepaired(
        bytes18 indexed uscc,
        uint32 version,
        CreditLevel previousLevel,
        CreditLevel level,
        bytes32 dossierHash,
        address indexed officer
    );

    /// @notice `account` does not hold `role` (CUSTOMS) actively in the participant registry.
    error Whitelist__Unauthorized(address account, bytes32 role);
    /// @notice `registry` is not a participant registry.
    error Whitelist__InvalidRegistry(address registry);
    /// @notice `uscc` is not a USCC: a character outside the code's alphabet, a non-digit in positions 3-8,
    /// or a wrong check character.
    error Whitelist__InvalidUscc(bytes18 uscc);
    /// @notice The credit level `None` cannot be written.
    error Whitelist__InvalidLevel(bytes18 uscc);
    /// @notice The validity window is empty: `validFrom` must be before `validUntil`.
    error Whitelist__InvalidValidity(bytes18 uscc, uint64 validFrom, uint64 validUntil);
    /// @notice The dossier hash is zero: every decision rests on evidence.
    error Whitelist__ZeroDossierHash(bytes18 uscc);
    /// @notice A `Dishonest` trader can hold no scope; `scopes` were asked for.
    error Whitelist__DishonestWithScopes(bytes18 uscc, uint256 scopes);
    /// @notice The trader was never listed.
    error Whitelist__UnknownTrader(bytes18 uscc);
    /// @notice The entry is revoked: only listing it again ({setEntry}) changes it.
    error Whitelist__EntryRevoked(bytes18 uscc);
    /// @notice Only an active entry can be suspended; it is `status`.
    error Whitelist__NotActive(bytes18 uscc, EntryStatus status);
    /// @notice Only a suspended entry can have its suspension lifted; it is `status`.
    error Whitelist__NotSuspended(bytes18 uscc, EntryStatus status);
    /// @notice Credit repair applies to a `Dishonest` trader only; this one is `level`.
    error Whitelist__NotDishonest(bytes18 uscc, CreditLevel level);
    /// @notice Credit repair must restore a level other than `None` and `Dishonest`.
    error Whitelist__InvalidRepairLevel(bytes18 uscc, CreditLevel level);
    /// @notice A reason must be 1 to {MAX_REASON_LENGTH} bytes; it was `length`.
    error Whitelist__InvalidReasonLength(uint256 length);
    /// @notice A batch must hold at least one entry.
    error Whitelist__EmptyBatch();
    /// @notice The signature's deadline `deadline` passed (block time `now`).
    error Whitelist__SignatureExpired(uint256 deadline, uint256 now);
    /// @notice `officer`'s next nonce is `expected`; the signature was made for `provided` (used, or out of order).
    error Whitelist__InvalidNonce(address officer, uint256 expected, uint256 provided);
    /// @notice The signature was not made by `officer` over this request (it recovers to `recovered`, zero if malformed).
    error Whitelist__InvalidSignature(address officer, address recovered);

    // ------------------------------------------------------------------ direct writes (caller holds CUSTOMS)

    /**
     * @notice Lists a trader, or replaces the content of its entry.
     * @dev A new entry becomes Active; a suspended one stays Suspended (lift the suspension explicitly); a
     * revoked one is listed again and becomes Active. Emits {EntrySet}.
     * @param input the entry's content
     */
    function setEntry(EntryInput calldata input) external;

    /**
     * @notice {setEntry} for many traders in one transaction (bulk load); one {EntrySet} per entry.
     * @param inputs the entries, at least one; the same trader may appear twice (two versions)
     */
    function setEntries(EntryInput[] calldata inputs) external;

    /**
     * @notice Suspends an active entry. Emits {EntrySuspended}.
     * @param uscc the trader
     * @param reason why, 1 to {MAX_REASON_LENGTH} bytes
     */
    function suspendEntry(bytes18 uscc, string calldata reason) external;

    /**
     * @notice Lifts the suspension of a suspended entry. Emits {SuspensionLifted}.
     * @param uscc the trader
     * @param reason why, 1 to {MAX_REASON_LENGTH} bytes
     */
    function liftSuspension(bytes18 uscc, string calldata reason) external;

    /**
     * @notice Revokes an active or suspended entry. Emits {EntryRevoked}.
     * @param uscc the trader
     * @param reason why, 1 to {MAX_REASON_LENGTH} bytes
     */
    function revokeEntry(bytes18 uscc, string calldata reason) external;

    /**
     * @notice Restores a `Dishonest` trader's credit after rectification. Scopes stay empty (grant them with
     * {setEntry}); status and validity are unchanged. Refused for a revoked entry. Emits {CreditRepaired}.
     * @param uscc the trader
     * @param level the restored level (`General` or `AdvancedCertified`)
     * @param dossierHash hash of the rectification dossier, not zero
     */
    function repairCredit(bytes18 uscc, CreditLevel level, bytes32 dossierHash) external;

    // ------------------------------------------------------------------ relayed writes (EIP-712 signature by the officer)

    /**
     * @notice {setEntry} on behalf of `officer`, who signed
     * `SetEntry(bytes18 uscc,uint8 level,uint256 scopes,uint64 validFrom,uint64 validUntil,bytes32 dossierHash,uint256 nonce,uint256 deadline)`.
     * @dev Any account may relay. Checked in order: deadline ({Whitelist__SignatureExpired}), nonce
     * ({Whitelist__InvalidNonce}), signature ({Whitelist__InvalidSignature}), officer's CUSTOMS role
     * ({Whitelist__Unauthorized}). Consumes the nonce. The events name `officer`.
     * @param input the entry's content
     * @param officer the signing officer's key
     * @param nonce the officer's next nonce ({nonces})
     * @param deadline last block time (unix seconds) at which the signature is accepted
     * @param signature the officer's 65-byte signature (r, s, v)
     */
    function setEntryWithSig(
        EntryInput calldata input,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice {suspendEntry} on behalf of `officer`, who signed
     * `SuspendEntry(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)`. Checks as {setEntryWithSig}.
     * @param uscc the trader
     * @param reason why
     * @param officer the signing officer's key
     * @param nonce the officer's next nonce
     * @param deadline last block time at which the signature is accepted
     * @param signature the officer's signature
     */
    function suspendEntryWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice {liftSuspension} on behalf of `officer`, who signed
     * `LiftSuspension(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)`. Checks as {setEntryWithSig}.
     * @param uscc the trader
     * @param reason why
     * @param officer the signing officer's key
     * @param nonce the officer's next nonce
     * @param deadline last block time at which the signature is accepted
     * @param signature the officer's signature
     */
    function liftSuspensionWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice {revokeEntry} on behalf of `officer`, who signed
     * `RevokeEntry(bytes18 uscc,string reason,uint256 nonce,uint256 deadline)`. Checks as {setEntryWithSig}.
     * @param uscc the trader
     * @param reason why
     * @param officer the signing officer's key
     * @param nonce the officer's next nonce
     * @param deadline last block time at which the signature is accepted
     * @param signature the officer's signature
     */
    function revokeEntryWithSig(
        bytes18 uscc,
        string calldata reason,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice {repairCredit} on behalf of `officer`, who signed
     * `RepairCredit(bytes18 uscc,uint8 level,bytes32 dossierHash,uint256 nonce,uint256 deadline)`. Checks as
     * {setEntryWithSig}.
     * @param uscc the trader
     * @param level the restored level
     * @param dossierHash hash of the rectification dossier
     * @param officer the signing officer's key
     * @param nonce the officer's next nonce
     * @param deadline last block time at which the signature is accepted
     * @param signature the officer's signature
     */
    function repairCreditWithSig(
        bytes18 uscc,
        CreditLevel level,
        bytes32 dossierHash,
        address officer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    // ------------------------------------------------------------------ views

    /**
     * @notice The entry of a trader.
     * @param uscc the trader
     * @return the entry; all zero (status `None`, version 0) if never listed
     */
    function getEntry(bytes18 uscc) external view returns (Entry memory);

    /**
     * @notice {getEntry} for many traders in one call (bulk comparison before an import).
     * @param usccs the traders
     * @return entries the entries, in the same order
     */
    function getEntries(bytes18[] calldata usccs) external view returns (Entry[] memory entries);

    /**
     * @notice Whether a trader may use `requiredScopes` at time `at`, and if not the first reason, in this
     * order: Unknown (never listed), Revoked, Suspended, Dishonest, NotYetValid (`at` < validFrom), Expired
     * (`at` >= validUntil), ScopeNotHeld (a required bit is missing). `requiredScopes` = 0 asks only whether
     * the trader is listed in good standing.
     * @param uscc the trader
     * @param requiredScopes the scopes needed, a bit set
     * @param at the time (unix seconds) to judge the validity window at
     * @return verdict `Allowed` or the first reason for refusal
     * @return entry the entry the verdict rests on (as {getEntry})
     */
    function checkTrader(bytes18 uscc, uint256 requiredScopes, uint64 at)
        external
        view
        returns (Verdict verdict, Entry memory entry);

    /**
     * @notice {checkTrader} at the current block time, as a yes/no for other contracts.
     * @param uscc the trader
     * @param requiredScopes the scopes needed, a bit set
     * @return true if the verdict is `Allowed`
     */
    function isAllowed(bytes18 uscc, uint256 requiredScopes) external view returns (bool);

    /**
     * @notice The next nonce a relayed write signed by `officer` must carry.
     * @param officer the officer's key
     * @return the nonce (0 for a key that never had a relayed write)
     */
    function nonces(address officer) external view returns (uint256);

    /**
     * @notice The EIP-712 domain separator relayed writes are signed in (name "TraderWhitelist", version "1",
     * this chain, this contract).
     * @return the separator
     */
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /**
     * @notice The participant registry that authorises officers' keys.
     * @return the registry
     */
    function registry() external view returns (IParticipantRegistry);
}
