// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IParticipantRegistry
 * @notice The consortium's register of participants (organisations), their signing keys and their
 * roles. Other contracts and the off-chain service ask it one question: may this key act in this
 * role right now ({hasActiveRole})?
 * @dev Roles are `keccak256("<NAME>")` for NAME in ADMIN, REGULATOR, CUSTOMS, PRODUCER, PROCESSOR,
 * DISTRIBUTOR, RETAILER, MANUFACTURER, DISPENSER, AUDITOR, ANCHOR. A participant's role set is reported
 * as a bitmask in which bit `i` stands for the `i`-th role of that list (ADMIN = bit 0 ... ANCHOR =
 * bit 10); see {roleBit}. Every change of state emits exactly one event per fact changed, so the
 * registry can be rebuilt from its events alone.
 */
interface IParticipantRegistry {
    /// @notice Lifecycle of a participant. `Unregistered` is never stored for a registered id.
    enum ParticipantStatus {
        Unregistered,
        Active,
        Suspended
    }

    /**
     * @notice A participant as returned by {getParticipant}.
     * @param id the participant's identifier (e.g. keccak256 of its GLN), never zero
     * @param gln the GS1 Global Location Number as an integer (13 digits once zero-padded)
     * @param name the display name
     * @param status Active or Suspended
     * @param roles bitmask of the roles held, bit `i` per {roleBit}
     * @param activeKeyCount how many of its keys are registered and not revoked
     * @param registeredAtBlock the block in which it was registered
     */
    struct Participant {
        bytes32 id;
        uint64 gln;
        string name;
        ParticipantStatus status;
        uint256 roles;
        uint32 activeKeyCount;
        uint64 registeredAtBlock;
    }

    /**
     * @notice A signing key as returned by {getKey}.
     * @param participantId the participant the key belongs (or belonged) to; zero if never registered
     * @param addedAtBlock the block in which the key was added
     * @param revokedAtBlock the block in which the key was revoked; zero while it is valid
     */
    struct Key {
        bytes32 participantId;
        uint64 addedAtBlock;
        uint64 revokedAtBlock;
    }

    /// @notice A participant was registered (Active, with no roles or keys: those follow as their own events).
    event ParticipantRegistered(bytes32 indexed participantId, uint64 indexed gln, string name);
    /// @notice A participant was suspended: none of its keys is authorised for any role until reactivated.
    event ParticipantSuspended(bytes32 indexed participantId);
    /// @notice A suspended participant was made active again.
    event ParticipantReactivated(bytes32 indexed participantId);
    /// @notice A signing key was added to a participant.
    event KeyAdded(bytes32 indexed participantId, address indexed key);
    /// @notice A signing key of a participant was revoked, for good.
    event KeyRevoked(bytes32 indexed participantId, address indexed key);
    /// @notice A participant was granted a role.
    event ParticipantRoleGranted(bytes32 indexed participantId, bytes32 indexed role);
    /// @notice A role was taken away from a participant.
    event ParticipantRoleRevoked(bytes32 indexed participantId, bytes32 indexed role);

    /// @notice `key` belongs to an active participant but that participant does not hold `role` (or `role` is unknown).
    error Registry__Unauthorized(address key, bytes32 role);
    /// @notice `key` was never registered.
    error Registry__UnknownKey(address key);
    /// @notice `key` was revoked (it belonged to `participantId`).
    error Registry__KeyRevoked(address key, bytes32 participantId);
    /// @notice `participantId` is suspended.
    error Registry__ParticipantSuspended(bytes32 participantId);
    /// @notice `participantId` is active, so it cannot be reactivated.
    error Registry__ParticipantNotSuspended(bytes32 participantId);
    /// @notice No participant is registered under `participantId`.
    error Registry__UnknownParticipant(bytes32 participantId);
    /// @notice A participant is already registered under `participantId`.
    error Registry__ParticipantAlreadyRegistered(bytes32 participantId);
    /// @notice The participant id zero is reserved (it means "none").
    error Registry__ZeroParticipantId();
    /// @notice `gln` is not a 13-digit GLN with a valid GS1 check digit (or is zero).
    error Registry__InvalidGln(uint64 gln);
    /// @notice `gln` is already the GLN of `participantId`.
    error Registry__GlnAlreadyRegistered(uint64 gln, bytes32 participantId);
    /// @notice The display name must be 1 to 256 bytes long; it was `length`.
    error Registry__InvalidNameLength(uint256 length);
    /// @notice The zero address cannot be a key.
    error Registry__ZeroKey();
    /// @notice `key` is, or was, a key of `participantId`; a key is never registered twice, even after revocation.
    error Registry__KeyAlreadyRegistered(address key, bytes32 participantId);
    /// @notice `role` is not one of the registry's roles.
    error Registry__UnknownRole(bytes32 role);
    /// @notice `participantId` already holds `role`.
    error Registry__RoleAlreadyGranted(bytes32 participantId, bytes32 role);
    /// @notice `participantId` does not hold `role`.
    error Registry__RoleNotGranted(bytes32 participantId, bytes32 role);

    /**
     * @notice Registers a participant, Active, with its roles and first keys in one call.
     * @dev Emits {ParticipantRegistered}, then one {ParticipantRoleGranted} per role and one {KeyAdded}
     * per key, in the order given. Either list may be empty. A duplicate in either list reverts.
     * @param participantId non-zero, unused identifier
     * @param gln the participant's GLN (valid check digit, unused by any other participant)
     * @param name display name, 1 to 256 bytes
     * @param roles role identifiers to grant
     * @param keys signing keys to add (never registered before)
     */
    function registerParticipant(
        bytes32 participantId,
        uint64 gln,
        string calldata name,
        bytes32[] calldata roles,
        address[] calldata keys
    ) external;

    /**
     * @notice Suspends an active participant: all its keys lose every role until it is reactivated.
     * @param participantId the participant
     */
    function suspendParticipant(bytes32 participantId) external;

    /**
     * @notice Reactivates a suspended participant.
     * @param participantId the participant
     */
    function reactivateParticipant(bytes32 participantId) external;

    /**
     * @notice Adds a signing key to a registered participant (active or suspended).
     * @param participantId the participant
     * @param key the key, never registered before
     */
    function addKey(bytes32 participantId, address key) external;

    /**
     * @notice Revokes a key for good; it can never be registered again.
     * @param key a registered, unrevoked key
     */
    function revokeKey(address key) external;

    /**
     * @notice Grants a role to a registered participant.
     * @param participantId the participant
     * @param role one of the registry's roles, not yet held
     */
    function grantParticipantRole(bytes32 participantId, bytes32 role) external;

    /**
     * @notice Takes a role away from a registered participant.
     * @param participantId the participant
     * @param role a role the participant holds
     */
    function revokeParticipantRole(bytes32 participantId, bytes32 role) external;

    /**
     * @notice Whether `key` may act in `role` now: the key is registered and not revoked, its
     * participant is active, and the participant holds `role`.
     * @param key the signing key
     * @param role the role identifier; an unknown role gives false
     * @return true if all of the above hold
     */
    function hasActiveRole(address key, bytes32 role) external view returns (bool);

    /**
     * @notice Reverts unless {hasActiveRole}(key, role) holds, with the first reason that applies:
     * {Registry__UnknownKey}, {Registry__KeyRevoked}, {Registry__ParticipantSuspended}, {Registry__Unauthorized}.
     * @param key the signing key
     * @param role the role identifier
     */
    function requireActiveRole(address key, bytes32 role) external view;

    /**
     * @notice The participant a key belongs to, or belonged to if it was revoked.
     * @dev Attribution only: use {hasActiveRole} to authorise.
     * @param key the signing key
     * @return the participant id, zero if the key was never registered
     */
    function participantOf(address key) external view returns (bytes32);

    /**
     * @notice The registration record of a key.
     * @param key the signing key
     * @return the record; all zero if the key was never registered
     */
    function getKey(address key) external view returns (Key memory);

    /**
     * @notice A registered participant. Reverts {Registry__UnknownParticipant} otherwise.
     * @param participantId the participant
     * @return the participant
     */
    function getParticipant(bytes32 participantId) external view returns (Participant memory);

    /**
     * @notice The participant registered under a GLN.
     * @param gln the GLN
     * @return the participant id, zero if none
     */
    function participantOfGln(uint64 gln) external view returns (bytes32);

    /**
     * @notice Whether a registered participant holds `role`, whatever its status.
     * @param participantId the participant (unregistered ids hold no role)
     * @param role the role identifier
     * @return true if the role is held
     */
    function participantHasRole(bytes32 participantId, bytes32 role) external view returns (bool);

    /**
     * @notice The bit that stands for `role` in a participant's role bitmask.
     * @param role the role identifier
     * @return `1 << i` for the `i`-th role of the list, zero for an unknown role
     */
    function roleBit(bytes32 role) external pure returns (uint256);
}
