// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ICheckpointAnchor} from "./interfaces/ICheckpointAnchor.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {RFC9162} from "./libraries/RFC9162.sol";

/**
 * @title CheckpointAnchor
 * @notice Anchors checkpoints of the traceledger Merkle log and refuses any that is not an append-only
 * extension of the latest one: the RFC 9162 consistency proof is verified here, on chain.
 * @dev Only keys holding ANCHOR actively in the {IParticipantRegistry} may anchor. There is no admin,
 * no upgrade and no way to remove or replace a checkpoint.
 */
contract CheckpointAnchor is ICheckpointAnchor {
    /// @notice The registry role a key needs to anchor (same value as the registry's ANCHOR_ROLE).
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR");

    /// @inheritdoc ICheckpointAnchor
    IParticipantRegistry public immutable registry;

    /// @dev Storage form of a checkpoint: three slots.
    struct StoredCheckpoint {
        bytes32 rootHash;
        uint64 treeSize;
        uint64 timestamp;
        uint64 blockNumber;
        address submitter;
    }

    StoredCheckpoint[] private _checkpoints;

    /**
     * @notice Binds the anchor to a participant registry, for good.
     * @param registry_ a contract that reports (ERC-165) the {IParticipantRegistry} interface
     */
    constructor(IParticipantRegistry registry_) {
        if (!ERC165Checker.supportsInterface(address(registry_), type(IParticipantRegistry).interfaceId)) {
            revert Anchor__InvalidRegistry(address(registry_));
        }
        registry = registry_;
    }

    /// @inheritdoc ICheckpointAnchor
    function anchor(uint64 treeSize, bytes32 rootHash, bytes32[] calldata consistencyProof)
        external
        returns (uint256 sequence)
    {
        if (!registry.hasActiveRole(msg.sender, ANCHOR_ROLE)) revert Anchor__Unauthorized(msg.sender, ANCHOR_ROLE);
        if (rootHash == bytes32(0)) revert Anchor__ZeroRoot();

        sequence = _checkpoints.length;
        uint64 latestSize = 0;
        bytes32 latestRoot = bytes32(0);
        if (sequence != 0) {
            StoredCheckpoint storage latest = _checkpoints[sequence - 1];
            latestSize = latest.treeSize;
            latestRoot = latest.rootHash;
        }
        if (treeSize <= latestSize) revert Anchor__NotGrowing(latestSize, treeSize);

        if (latestSize == 0) {
            if (consistencyProof.length != 0) revert Anchor__InvalidProofLength(0, consistencyProof.length);
        } else {
            uint256 expected = RFC9162.consistencyProofLength(latestSize, treeSize);
            if (consistencyProof.length != expected) {
                revert Anchor__InvalidProofLength(expected, consistencyProof.length);
            }
            (bool ok, bytes32 oldRoot, bytes32 newRoot) =
                RFC9162.rootsFromConsistencyProof(latestSize, treeSize, latestRoot, consistencyProof);
            // Unreachable when the length matches; kept so that validity never rests on that alone.
            if (!ok) revert Anchor__InvalidProofLength(expected, consistencyProof.length);
            if (oldRoot != latestRoot) revert Anchor__OldRootMismatch(latestRoot, oldRoot);
            if (newRoot != rootHash) revert Anchor__NewRootMismatch(rootHash, newRoot);
        }

        _checkpoints.push(
            StoredCheckpoint({
                rootHash: rootHash,
                treeSize: treeSize,
                timestamp: uint64(block.timestamp),
                blockNumber: uint64(block.number),
                submitter: msg.sender
            })
        );
        emit CheckpointAnchored(sequence, treeSize, rootHash, msg.sender);
    }

    /// @inheritdoc ICheckpointAnchor
    function latestCheckpoint() external view returns (Checkpoint memory checkpoint) {
        uint256 count = _checkpoints.length;
        if (count != 0) checkpoint = _toCheckpoint(_checkpoints[count - 1]);
    }

    /// @inheritdoc ICheckpointAnchor
    function checkpointCount() external view returns (uint256) {
        return _checkpoints.length;
    }

    /// @inheritdoc ICheckpointAnchor
    function checkpointAt(uint256 sequence) external view returns (Checkpoint memory) {
        uint256 count = _checkpoints.length;
        if (sequence >= count) revert Anchor__UnknownSequence(sequence, count);
        return _toCheckpoint(_checkpoints[sequence]);
    }

    /// @inheritdoc ICheckpointAnchor
    function checkpointOfSize(uint64 treeSize) external view returns (Checkpoint memory) {
        // Sizes strictly increase with the sequence: binary search for the first size >= treeSize.
        uint256 low = 0;
        uint256 high = _checkpoints.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (_checkpoints[mid].treeSize < treeSize) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if (low == _checkpoints.length || _checkpoints[low].treeSize != treeSize) {
            revert Anchor__UnknownCheckpoint(treeSize);
        }
        return _toCheckpoint(_checkpoints[low]);
    }

    /// @inheritdoc ICheckpointAnchor
    function verifyConsistency(uint64 size1, uint64 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return RFC9162.verifyConsistency(size1, size2, root1, root2, proof);
    }

    function _toCheckpoint(StoredCheckpoint storage stored) private view returns (Checkpoint memory) {
        return Checkpoint({
            treeSize: stored.treeSize,
            rootHash: stored.rootHash,
            timestamp: stored.timestamp,
            blockNumber: stored.blockNumber,
            submitter: stored.submitter
        });
    }
}
