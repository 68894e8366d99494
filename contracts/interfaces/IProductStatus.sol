// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/**
 * @title IProductStatus
 * @notice Recalls of lots and serialized items, and the decommissioning of packs (dispensed, stolen,
 * destroyed): the facts a scan must be able to check against the chain itself.
 * @dev A subject is a canonical trace key, the path of its GS1 Digital Link (for example
 * "/01/09506000134352/10/LOT1" or "/01/09506000134352/21/SN1"); its id is keccak256 of those bytes.
 * Every change emits one event carrying the key, so the status of every subject can be rebuilt from
 * events alone.
 */
interface IProductStatus {
    /// @notice How a pack left the supply chain. `None`: it has not.
    enum PackStatus {
        None,
        Dispensed,
        Stolen,
        Destroyed
    }

    /**
     * @notice Everything the contract knows about a subject (all zero for an unknown one).
     * @param owner the participant that registered it as its lot (zero if nobody did)
     * @param recalled whether a recall is in force
     * @param recalledBy the participant that recorded the recall in force (or the last one withdrawn)
     * @param recalledAt block timestamp of that recall
     * @param recallReasonHash hash of the recall's reason dossier
     * @param packStatus how the pack left the supply chain, if it did
     * @param decommissionedBy the participant that decommissioned it
     * @param decommissionedAt block timestamp of the decommissioning
     */
    struct SubjectStatus {
        bytes32 owner;
        bool recalled;
        bytes32 recalledBy;
        uint64 recalledAt;
        bytes32 recallReasonHash;
        PackStatus packStatus;
        bytes32 decommissionedBy;
        uint64 decommissionedAt;
    }

    /// @notice `participantId` registered `key` as one of its lots.
    event LotRegistered(bytes32 indexed subject, bytes32 indexed participantId, string key);
    /// @notice `participantId` recalled `key`; `notice` is the public text, `reasonHash` commits to the dossier.
    event Recalled(bytes32 indexed subject, bytes32 indexed participantId, string key, string notice, bytes32 reasonHash);
    /// @notice `participantId` (a regulator) withdrew the recall of `key`.
    event RecallWithdrawn(bytes32 indexed subject, bytes32 indexed participantId, string key, string notice);
    /// @notice `participantId` decommissioned the pack `key` with `status`.
    event Decommissioned(
        bytes32 indexed subject, bytes32 indexed participantId, string key, PackStatus status, bytes32 reasonHash
    );

    /// @notice `account` may not do this: it lacks `role` (actively) in the participant registry.
    error Status__Unauthorized(address account, bytes32 role);
    /// @notice Only the regulator or the participant that registered the lot, `owner`, may recall `subject`.
    error Status__NotLotOwner(address account, bytes32 subject, bytes32 owner);
    /// @notice `subject` was already registered by `owner`.
    error Status__AlreadyRegistered(bytes32 subject, bytes32 owner);
    /// @notice `subject` is already recalled.
    error Status__AlreadyRecalled(bytes32 subject);
    /// @notice `subject` is not recalled, so there is nothing to withdraw.
    error Status__NotRecalled(bytes32 subject);
    /// @notice The pack `subject` already left the supply chain with `status`: the diversion signal.
    error Status__AlreadyDecommissioned(bytes32 subject, PackStatus status);
    /// @notice `status` is not a way to decommission a pack (use Dispensed, Stolen or Destroyed).
    error Status__InvalidStatus(uint8 status);
    /// @notice A key must be a Digital Link path of 4 to `maxLength` bytes starting with "/"; it had `length`.
    error Status__InvalidKey(uint256 length, uint256 maxLength);
    /// @notice A notice must be 1 to `maxLength` bytes; it had `length`.
    error Status__InvalidNotice(uint256 length, uint256 maxLength);
    /// @notice The registry given to the constructor does not report the {IParticipantRegistry} interface.
    error Status__InvalidRegistry(address registry);

    /**
     * @notice Register `key` as a lot of the caller's participant, so that it may recall it later.
     * @dev Caller must hold PRODUCER or MANUFACTURER actively. First registration wins.
     * @param key the lot's canonical trace key
     */
    function registerLot(string calldata key) external;

    /**
     * @notice Recall a lot or a serialized item.
     * @dev Caller must hold REGULATOR actively, or be an active key of the participant that registered
     * `key`. Emits {Recalled}.
     * @param key the canonical trace key recalled
     * @param notice public text shown to whoever scans it (1 to 256 bytes)
     * @param reasonHash hash of the reason dossier (kept off chain)
     */
    function recall(string calldata key, string calldata notice, bytes32 reasonHash) external;

    /**
     * @notice Withdraw a recall recorded by mistake or resolved.
     * @dev Caller must hold REGULATOR actively. Emits {RecallWithdrawn}.
     * @param key the canonical trace key
     * @param notice public text explaining why (1 to 256 bytes)
     */
    function withdrawRecall(string calldata key, string calldata notice) external;

    /**
     * @notice Record that a pack left the supply chain: dispensed to a patient, stolen or destroyed.
     * @dev Dispensed needs DISPENSER; Stolen and Destroyed need DISPENSER, DISTRIBUTOR, MANUFACTURER or
     * REGULATOR. A pack is decommissioned once: a second attempt reverts {Status__AlreadyDecommissioned}.
     * @param key the pack's canonical trace key (a serialized item)
     * @param status Dispensed, Stolen or Destroyed
     * @param reasonHash hash of supporting evidence (zero if none)
     */
    function decommission(string calldata key, PackStatus status, bytes32 reasonHash) external;

    /**
     * @notice The status of many subjects in one call (one scan checks every key of a trace).
     * @param subjects subject ids (keccak256 of the keys)
     * @return statuses one per subject, in order
     */
    function statusOf(bytes32[] calldata subjects) external view returns (SubjectStatus[] memory statuses);

    /// @notice The participant registry that decides who may do what.
    function registry() external view returns (IParticipantRegistry);
}
