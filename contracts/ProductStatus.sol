// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IProductStatus} from "./interfaces/IProductStatus.sol";

/**
 * @title ProductStatus
 * @notice Recalls of lots and items and the decommissioning of packs, authorised by roles in the
 * participant registry; what a scanner reads to tell a consumer or a pharmacist "recalled" or "already
 * dispensed" without trusting any server.
 * @dev No admin, no upgrade. A recall can be withdrawn only by a regulator; a decommissioning is final.
 */
contract ProductStatus is IProductStatus {
    /// @notice Records and withdraws any recall.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR");
    /// @notice Registers (and may then recall) its own lots.
    bytes32 public constant PRODUCER_ROLE = keccak256("PRODUCER");
    /// @notice Registers (and may then recall) its own lots; may report packs stolen or destroyed.
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER");
    /// @notice Dispenses packs; may report them stolen or destroyed.
    bytes32 public constant DISPENSER_ROLE = keccak256("DISPENSER");
    /// @notice May report packs stolen or destroyed.
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR");
    /// @notice Longest key accepted, in bytes (a Digital Link path with GTIN, lot and serial fits easily).
    uint256 public constant MAX_KEY_LENGTH = 128;
    /// @notice Longest public notice accepted, in bytes.
    uint256 public constant MAX_NOTICE_LENGTH = 256;

    /// @inheritdoc IProductStatus
    IParticipantRegistry public immutable registry;

    mapping(bytes32 subject => SubjectStatus) private _status;

    /**
     * @notice Binds the contract to a participant registry, for good.
     * @param registry_ a contract that reports (ERC-165) the {IParticipantRegistry} interface
     */
    constructor(IParticipantRegistry registry_) {
        if (!ERC165Checker.supportsInterface(address(registry_), type(IParticipantRegistry).interfaceId)) {
            revert Status__InvalidRegistry(address(registry_));
        }
        registry = registry_;
    }

    /// @inheritdoc IProductStatus
    function registerLot(string calldata key) external {
        if (!registry.hasActiveRole(msg.sender, PRODUCER_ROLE)) _requireRole(MANUFACTURER_ROLE);
        bytes32 subject = _subject(key);
        SubjectStatus storage status = _status[subject];
        if (status.owner != bytes32(0)) revert Status__AlreadyRegistered(subject, status.owner);
        bytes32 participant = registry.participantOf(msg.sender);
        status.owner = participant;
        emit LotRegistered(subject, participant, key);
    }

    /// @inheritdoc IProductStatus
    function recall(string calldata key, string calldata notice, bytes32 reasonHash) external {
        bytes32 subject = _subject(key);
        _checkNotice(notice);
        SubjectStatus storage status = _status[subject];
        bytes32 participant = registry.participantOf(msg.sender);
        if (!registry.hasActiveRole(msg.sender, REGULATOR_ROLE)) {
            bool ownsIt = status.owner != bytes32(0) && status.owner == participant;
            if (!ownsIt || !(_isActive(PRODUCER_ROLE) || _isActive(MANUFACTURER_ROLE))) {
                revert Status__NotLotOwner(msg.sender, subject, status.owner);
            }
        }
        if (status.recalled) revert Status__AlreadyRecalled(subject);
        status.recalled = true;
        status.recalledBy = participant;
        status.recalledAt = uint64(block.timestamp);
        status.recallReasonHash = reasonHash;
        emit Recalled(subject, participant, key, notice, reasonHash);
    }

    /// @inheritdoc IProductStatus
    function withdrawRecall(string calldata key, string calldata notice) external {
        _requireRole(REGULATOR_ROLE);
        bytes32 subject = _subject(key);
        _checkNotice(notice);
        SubjectStatus storage status = _status[subject];
        if (!status.recalled) revert Status__NotRecalled(subject);
        status.recalled = false;
        emit RecallWithdrawn(subject, registry.participantOf(msg.sender), key, notice);
    }

    /// @inheritdoc IProductStatus
    function decommission(string calldata key, PackStatus packStatus, bytes32 reasonHash) external {
        if (packStatus == PackStatus.None) revert Status__InvalidStatus(uint8(packStatus));
        if (packStatus == PackStatus.Dispensed) {
            _requireRole(DISPENSER_ROLE);
        } else if (
            !_isActive(DISPENSER_ROLE) && !_isActive(DISTRIBUTOR_ROLE) && !_isActive(MANUFACTURER_ROLE)
        ) {
            _requireRole(REGULATOR_ROLE);
        }
        bytes32 subject = _subject(key);
        SubjectStatus storage status = _status[subject];
        if (status.packStatus != PackStatus.None) revert Status__AlreadyDecommissioned(subject, status.packStatus);
        bytes32 participant = registry.participantOf(msg.sender);
        status.packStatus = packStatus;
        status.decommissionedBy = participant;
        status.decommissionedAt = uint64(block.timestamp);
        emit Decommissioned(subject, participant, key, packStatus, reasonHash);
    }

    /// @inheritdoc IProductStatus
    function statusOf(bytes32[] calldata subjects) external view returns (SubjectStatus[] memory statuses) {
        statuses = new SubjectStatus[](subjects.length);
        for (uint256 i = 0; i < subjects.length; ++i) {
            statuses[i] = _status[subjects[i]];
        }
    }

    function _subject(string calldata key) private pure returns (bytes32) {
        uint256 length = bytes(key).length;
        if (length < 4 || length > MAX_KEY_LENGTH || bytes(key)[0] != "/") {
            revert Status__InvalidKey(length, MAX_KEY_LENGTH);
        }
        return keccak256(bytes(key));
    }

    function _checkNotice(string calldata notice) private pure {
        uint256 length = bytes(notice).length;
        if (length == 0 || length > MAX_NOTICE_LENGTH) revert Status__InvalidNotice(length, MAX_NOTICE_LENGTH);
    }

    function _isActive(bytes32 role) private view returns (bool) {
        return registry.hasActiveRole(msg.sender, role);
    }

    function _requireRole(bytes32 role) private view {
        if (!registry.hasActiveRole(msg.sender, role)) revert Status__Unauthorized(msg.sender, role);
    }
}
