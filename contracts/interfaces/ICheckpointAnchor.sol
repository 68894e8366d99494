// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/**
 * @title ICheckpointAnchor
 * @notice Append-only register of checkpoints (tree size, root hash) of the traceledger Merkle log
 * (RFC 9162). A checkpoint is accepted only with a consistency proof from the latest one, verified on
 * chain, so the anchored history of the log can only grow.
 * @dev Checkpoints are numbered from 0 (the `sequence`) in the order anchored; tree sizes strictly
 * increase with the sequence.
 */
interface ICheckpointAnchor {
    /**
     * @notice An anchored checkpoint.
     * @param treeSize number of leaves of the log
     * @param rootHash RFC 9162 root hash of the log at that size
     * @param timestamp timestamp of the block that anchored it
     * @param blockNumber number of the block that anchored it
     * @param submitter the key that anchored it
     */
    struct Checkpoint {
        uint64 treeSize;
        bytes32 rootHash;
        uint64 timestamp;
        uint64 blockNumber;
        address submitter;
    }

    /// @notice Checkpoint number `sequence` was anchored by `submitter`.
    event CheckpointAnchored(uint256 indexed sequence, uint64 treeSize, bytes32 rootHash, address indexed submitter);

    /// @notice `account` does not hold `role` actively in the participant registry.
    error Anchor__Unauthorized(address account, bytes32 role);
    /// @notice A new checkpoint must be larger than the latest one (`latestSize`, 0 if none); it was `newSize`.
    error Anchor__NotGrowing(uint64 latestSize, uint64 newSize);
    /// @notice The consistency proof has `got` hashes; from the latest size to the new one it needs `expected`.
    error Anchor__InvalidProofLength(uint256 expected, uint256 got);
    /// @notice The proof leads to `computedOldRoot`, not to the latest anchored root `latestRoot`.
    error Anchor__OldRootMismatch(bytes32 latestRoot, bytes32 computedOldRoot);
    /// @notice The proof leads to `computedNewRoot`, not to the submitted root `rootHash`.
    error Anchor__NewRootMismatch(bytes32 rootHash, bytes32 computedNewRoot);
    /// @notice The zero hash is not a root.
    error Anchor__ZeroRoot();
    /// @notice No checkpoint of size `treeSize` was anchored.
    error Anchor__UnknownCheckpoint(uint64 treeSize);
    /// @notice No checkpoint number `sequence`: only `count` were anchored.
    error Anchor__UnknownSequence(uint256 sequence, uint256 count);
    /// @notice `registry` is not a participant registry.
    error Anchor__InvalidRegistry(address registry);

    /**
     * @notice Anchors the checkpoint (treeSize, rootHash) as an append-only extension of the latest one.
     * @dev The caller must hold ANCHOR actively in the registry. The first checkpoint needs an empty
     * proof; each later one an RFC 9162 consistency proof from the latest (size, root). Emits
     * {CheckpointAnchored}.
     * @param treeSize the new tree size, larger than the latest
     * @param rootHash the root of the log at `treeSize`
     * @param consistencyProof the proof from the latest checkpoint, empty for the first
     * @return sequence the new checkpoint's number
     */
    function anchor(uint64 treeSize, bytes32 rootHash, bytes32[] calldata consistencyProof)
        external
        returns (uint256 sequence);

    /**
     * @notice The latest checkpoint.
     * @return the checkpoint; all zero (treeSize 0) if none was anchored yet
     */
    function latestCheckpoint() external view returns (Checkpoint memory);

    /**
     * @notice Number of checkpoints anchored.
     * @return the count; the next checkpoint gets this sequence number
     */
    function checkpointCount() external view returns (uint256);

    /**
     * @notice Checkpoint number `sequence`; reverts {Anchor__UnknownSequence} if none.
     * @param sequence the checkpoint number, from 0
     * @return the checkpoint
     */
    function checkpointAt(uint256 sequence) external view returns (Checkpoint memory);

    /**
     * @notice The checkpoint of a given tree size; reverts {Anchor__UnknownCheckpoint} if none.
     * @param treeSize the tree size
     * @return the checkpoint
     */
    function checkpointOfSize(uint64 treeSize) external view returns (Checkpoint memory);

    /**
     * @notice Checks an RFC 9162 consistency proof, exactly as {anchor} does, without state.
     * @dev For auditors and clients. Equal sizes need an empty proof and equal roots; size1 = 0 is
     * always false (a proof from the empty tree is meaningless).
     * @param size1 the old tree size
     * @param size2 the new tree size
     * @param root1 the old root
     * @param root2 the new root
     * @param proof the consistency proof
     * @return true if the proof verifies
     */
    function verifyConsistency(uint64 size1, uint64 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        external
        pure
        returns (bool);

    /**
     * @notice The participant registry that authorises anchoring keys.
     * @return the registry
     */
    function registry() external view returns (IParticipantRegistry);
}
