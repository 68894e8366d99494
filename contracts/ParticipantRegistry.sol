// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";

/**
 * @title ParticipantRegistry
 * @notice The consortium's participants (organisations), their signing keys and their roles.
 * @dev Two layers, deliberately separate:
 * - Governance is OpenZeppelin {AccessControl} over addresses: the deployer holds `DEFAULT_ADMIN_ROLE`
 *   (which administers `ADMIN_ROLE`) and `ADMIN_ROLE`; only `ADMIN_ROLE` holders change the registry.
 *   A missing governance role reverts with AccessControl's `AccessControlUnauthorizedAccount`.
 * - Participant roles are what {hasActiveRole} answers: a key's participant must be active and hold the
 *   role. `ADMIN_ROLE` is also a participant role (bit 0) marking a governing organisation; holding it
 *   as a participant role grants no power over this contract, and vice versa.
 *
 * Keys are single-use identities: a key belongs to one participant and, once revoked, can never be
 * registered again, so a signature by a key always names the same participant.
 */
contract ParticipantRegistry is AccessControl, IParticipantRegistry {
    /// @notice Consortium governance (also a participant role, bit 0).
    bytes32 public constant ADMIN_ROLE = keccak256("ADMIN");
    /// @notice Regulator: recalls and pack status (bit 1).
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR");
    /// @notice Customs: clearance and the trader whitelist (bit 2).
    bytes32 public constant CUSTOMS_ROLE = keccak256("CUSTOMS");
    /// @notice Producer: harvests and registers lots (bit 3).
    bytes32 public constant PRODUCER_ROLE = keccak256("PRODUCER");
    /// @notice Processor: transforms inputs into outputs (bit 4).
    bytes32 public constant PROCESSOR_ROLE = keccak256("PROCESSOR");
    /// @notice Distributor: ships and receives (bit 5).
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR");
    /// @notice Retailer: sells to consumers (bit 6).
    bytes32 public constant RETAILER_ROLE = keccak256("RETAILER");
    /// @notice Drug manufacturer: commissions serialized packs (bit 7).
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER");
    /// @notice Dispenser (pharmacy or hospital): dispenses packs (bit 8).
    bytes32 public constant DISPENSER_ROLE = keccak256("DISPENSER");
    /// @notice Auditor: read and attest (bit 9).
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR");
    /// @notice Anchoring service key: submits log checkpoints (bit 10).
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR");

    /// @notice Longest display name accepted, in bytes.
    uint256 public constant MAX_NAME_LENGTH = 256;

    /// @dev Storage form of a participant; the first five fields share one slot.
    struct ParticipantRecord {
        uint64 gln;
        uint64 registeredAtBlock;
        uint64 roles;
        uint32 activeKeyCount;
        ParticipantStatus status;
        string name;
    }

    mapping(bytes32 participantId => ParticipantRecord) private _participants;
    mapping(address key => Key) private _keys;
    mapping(uint64 gln => bytes32 participantId) private _participantOfGln;

    /// @notice The deployer receives `DEFAULT_ADMIN_ROLE` and `ADMIN_ROLE`.
    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(ADMIN_ROLE, msg.sender);
    }

    // ------------------------------------------------------------------ governance writes

    /// @inheritdoc IParticipantRegistry
    function registerParticipant(
        bytes32 participantId,
        uint64 gln,
        string calldata name,
        bytes32[] calldata roles,
        address[] calldata keys
    ) external onlyRole(ADMIN_ROLE) {
        if (participantId == bytes32(0)) revert Registry__ZeroParticipantId();
        ParticipantRecord storage p = _participants[participantId];
        if (p.status != ParticipantStatus.Unregistered) revert Registry__ParticipantAlreadyRegistered(participantId);
        if (!_isValidGln(gln)) revert Registry__InvalidGln(gln);
        bytes32 glnOwner = _participantOfGln[gln];
        if (glnOwner != bytes32(0)) revert Registry__GlnAlreadyRegistered(gln, glnOwner);
        uint256 nameLength = bytes(name).length;
        if (nameLength == 0 || nameLength > MAX_NAME_LENGTH) revert Registry__InvalidNameLength(nameLength);

        p.gln = gln;
        p.registeredAtBlock = uint64(block.number);
        p.status = ParticipantStatus.Active;
        p.name = name;
        _participantOfGln[gln] = participantId;
        emit ParticipantRegistered(participantId, gln, name);

        for (uint256 i = 0; i < roles.length; ++i) {
            _grantParticipantRole(participantId, p, roles[i]);
        }
        for (uint256 i = 0; i < keys.length; ++i) {
            _addKey(participantId, p, keys[i]);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function suspendParticipant(bytes32 participantId) external onlyRole(ADMIN_ROLE) {
        ParticipantRecord storage p = _registered(participantId);
        if (p.status == ParticipantStatus.Suspended) revert Registry__ParticipantSuspended(participantId);
        p.status = ParticipantStatus.Suspended;
        emit ParticipantSuspended(participantId);
    }

    /// @inheritdoc IParticipantRegistry
    function reactivateParticipant(bytes32 participantId) external onlyRole(ADMIN_ROLE) {
        ParticipantRecord storage p = _registered(participantId);
        if (p.status != ParticipantStatus.Suspended) revert Registry__ParticipantNotSuspended(participantId);
        p.status = ParticipantStatus.Active;
        emit ParticipantReactivated(participantId);
    }

    /// @inheritdoc IParticipantRegistry
    function addKey(bytes32 participantId, address key) external onlyRole(ADMIN_ROLE) {
        _addKey(participantId, _registered(participantId), key);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeKey(address key) external onlyRole(ADMIN_ROLE) {
        Key storage k = _keys[key];
        bytes32 participantId = k.participantId;
        if (participantId == bytes32(0)) revert Registry__UnknownKey(key);
        if (k.revokedAtBlock != 0) revert Registry__KeyRevoked(key, participantId);
        k.revokedAtBlock = uint64(block.number);
        _participants[participantId].activeKeyCount -= 1;
        emit KeyRevoked(participantId, key);
    }

    /// @inheritdoc IParticipantRegistry
    function grantParticipantRole(bytes32 participantId, bytes32 role) external onlyRole(ADMIN_ROLE) {
        _grantParticipantRole(participantId, _registered(participantId), role);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeParticipantRole(bytes32 participantId, bytes32 role) external onlyRole(ADMIN_ROLE) {
        ParticipantRecord storage p = _registered(participantId);
        uint256 bit = _knownRoleBit(role);
        if ((p.roles & bit) == 0) revert Registry__RoleNotGranted(participantId, role);
        p.roles &= ~uint64(bit);
        emit ParticipantRoleRevoked(participantId, role);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IParticipantRegistry
    function hasActiveRole(address key, bytes32 role) external view returns (bool) {
        uint256 bit = _roleBit(role);
        if (bit == 0) return false;
        Key storage k = _keys[key];
        bytes32 participantId = k.participantId;
        if (participantId == bytes32(0) || k.revokedAtBlock != 0) return false;
        ParticipantRecord storage p = _participants[participantId];
        return p.status == ParticipantStatus.Active && (p.roles & bit) != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function requireActiveRole(address key, bytes32 role) external view {
        Key storage k = _keys[key];
        bytes32 participantId = k.participantId;
        if (participantId == bytes32(0)) revert Registry__UnknownKey(key);
        if (k.revokedAtBlock != 0) revert Registry__KeyRevoked(key, participantId);
        ParticipantRecord storage p = _participants[participantId];
        if (p.status != ParticipantStatus.Active) revert Registry__ParticipantSuspended(participantId);
        if ((p.roles & _roleBit(role)) == 0) revert Registry__Unauthorized(key, role);
    }

    /// @inheritdoc IParticipantRegistry
    function participantOf(address key) external view returns (bytes32) {
        return _keys[key].participantId;
    }

    /// @inheritdoc IParticipantRegistry
    function getKey(address key) external view returns (Key memory) {
        return _keys[key];
    }

    /// @inheritdoc IParticipantRegistry
    function getParticipant(bytes32 participantId) external view returns (Participant memory) {
        ParticipantRecord storage p = _registered(participantId);
        return Participant({
            id: participantId,
            gln: p.gln,
            name: p.name,
            status: p.status,
            roles: p.roles,
            activeKeyCount: p.activeKeyCount,
            registeredAtBlock: p.registeredAtBlock
        });
    }

    /// @inheritdoc IParticipantRegistry
    function participantOfGln(uint64 gln) external view returns (bytes32) {
        return _participantOfGln[gln];
    }

    /// @inheritdoc IParticipantRegistry
    function participantHasRole(bytes32 participantId, bytes32 role) external view returns (bool) {
        return (_participants[participantId].roles & _roleBit(role)) != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function roleBit(bytes32 role) external pure returns (uint256) {
        return _roleBit(role);
    }

    /// @notice ERC-165: AccessControl's interfaces and {IParticipantRegistry}.
    /// @param interfaceId the interface identifier
    /// @return true if this contract implements it
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IParticipantRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _registered(bytes32 participantId) private view returns (ParticipantRecord storage p) {
        p = _participants[participantId];
        if (p.status == ParticipantStatus.Unregistered) revert Registry__UnknownParticipant(participantId);
    }

    function _grantParticipantRole(bytes32 participantId, ParticipantRecord storage p, bytes32 role) private {
        uint256 bit = _knownRoleBit(role);
        if ((p.roles & bit) != 0) revert Registry__RoleAlreadyGranted(participantId, role);
        p.roles |= uint64(bit);
        emit ParticipantRoleGranted(participantId, role);
    }

    function _addKey(bytes32 participantId, ParticipantRecord storage p, address key) private {
        if (key == address(0)) revert Registry__ZeroKey();
        Key storage k = _keys[key];
        if (k.participantId != bytes32(0)) revert Registry__KeyAlreadyRegistered(key, k.participantId);
        k.participantId = participantId;
        k.addedAtBlock = uint64(block.number);
        p.activeKeyCount += 1;
        emit KeyAdded(participantId, key);
    }

    function _knownRoleBit(bytes32 role) private pure returns (uint256 bit) {
        bit = _roleBit(role);
        if (bit == 0) revert Registry__UnknownRole(role);
    }

    /// @dev Bit `i` for the `i`-th role of the fixed list; zero for anything else.
    function _roleBit(bytes32 role) private pure returns (uint256) {
        if (role == ADMIN_ROLE) return 1 << 0;
        if (role == REGULATOR_ROLE) return 1 << 1;
        if (role == CUSTOMS_ROLE) return 1 << 2;
        if (role == PRODUCER_ROLE) return 1 << 3;
        if (role == PROCESSOR_ROLE) return 1 << 4;
        if (role == DISTRIBUTOR_ROLE) return 1 << 5;
        if (role == RETAILER_ROLE) return 1 << 6;
        if (role == MANUFACTURER_ROLE) return 1 << 7;
        if (role == DISPENSER_ROLE) return 1 << 8;
        if (role == AUDITOR_ROLE) return 1 << 9;
        if (role == ANCHOR_ROLE) return 1 << 10;
        return 0;
    }

    /// @dev A GLN is 13 digits, the last a GS1 mod-10 check digit (weights 3,1,3,... from the right
    /// of the 12 data digits). Zero is refused.
    function _isValidGln(uint64 gln) private pure returns (bool) {
        if (gln == 0 || gln >= 1e13) return false;
        uint256 rest = gln / 10;
        uint256 sum = 0;
        for (uint256 i = 0; i < 12; ++i) {
            uint256 digit = rest % 10;
            rest /= 10;
            sum += i % 2 == 0 ? digit * 3 : digit;
        }
        return (10 - (sum % 10)) % 10 == gln % 10;
    }
}
