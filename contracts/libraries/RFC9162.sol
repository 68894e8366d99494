// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title RFC9162
 * @notice Verification of RFC 9162 (Certificate Transparency v2, same tree as RFC 6962) Merkle tree
 * consistency proofs, with SHA-256: interior node = SHA-256(0x01 || left || right).
 * @dev Internal functions only: they are compiled into the calling contract. The algorithm is the one
 * of RFC 9162 section 2.1.4.2, step by step; {consistencyProofLength} gives the length that algorithm
 * consumes, in closed form (as in transparency-dev/merkle), so a caller can refuse a malformed proof
 * before hashing and say what it expected.
 */
library RFC9162 {
    /**
     * @notice Interior node hash: SHA-256(0x01 || left || right).
     * @param left the left child
     * @param right the right child
     * @return the parent's hash
     */
    function hashChildren(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /**
     * @notice Number of hashes in a consistency proof from a tree of `size1` leaves to one of `size2`.
     * @dev Precondition: 0 < size1 < size2. With fn = (size1-1) >> k and sn = (size2-1) >> k, where k is
     * the number of trailing zero bits of size1: the proof holds the root of the old tree's last full
     * subtree unless size1 is a power of two (then the old root itself serves), then one hash per level
     * where fn and sn still differ, then one per set bit of fn above those levels.
     * @param size1 the old tree size
     * @param size2 the new tree size
     * @return the proof length
     */
    function consistencyProofLength(uint64 size1, uint64 size2) internal pure returns (uint256) {
        uint256 fn = size1 - 1;
        uint256 sn = size2 - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        uint256 inner = 0;
        for (uint256 diff = fn ^ sn; diff != 0; diff >>= 1) {
            ++inner;
        }
        uint256 border = 0;
        for (uint256 rest = fn >> inner; rest != 0; rest &= rest - 1) {
            ++border;
        }
        uint256 seed = (size1 & (size1 - 1)) == 0 ? 0 : 1;
        return seed + inner + border;
    }

    /**
     * @notice The old and new roots a consistency proof implies (RFC 9162 section 2.1.4.2 steps 2 to 6).
     * @dev Precondition: 0 < size1 < size2. `ok` is false when the proof does not have the shape the
     * algorithm expects (the RFC's "sn is 0" checks); the roots are then meaningless. When size1 is a
     * power of two the old root is `root1` itself (the RFC prepends it to the proof).
     * @param size1 the old tree size
     * @param size2 the new tree size
     * @param root1 the old root (used only when size1 is a power of two)
     * @param proof the consistency proof
     * @return ok whether the proof had the expected shape
     * @return oldRoot the root of the old tree the proof implies
     * @return newRoot the root of the new tree the proof implies
     */
    function rootsFromConsistencyProof(uint64 size1, uint64 size2, bytes32 root1, bytes32[] calldata proof)
        internal
        pure
        returns (bool ok, bytes32 oldRoot, bytes32 newRoot)
    {
        uint256 next = 0;
        // Step 2: if size1 is an exact power of 2, the old root is the first value of the path.
        if ((size1 & (size1 - 1)) == 0) {
            oldRoot = root1;
        } else {
            if (proof.length == 0) return (false, 0, 0);
            oldRoot = proof[0];
            next = 1;
        }
        // Step 3.
        uint256 fn = size1 - 1;
        uint256 sn = size2 - 1;
        // Step 4: right-shift both until LSB(fn) is not set.
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        // Step 5.
        newRoot = oldRoot;
        // Step 6.
        for (; next < proof.length; ++next) {
            if (sn == 0) return (false, oldRoot, newRoot);
            bytes32 c = proof[next];
            if ((fn & 1) == 1 || fn == sn) {
                oldRoot = hashChildren(c, oldRoot);
                newRoot = hashChildren(c, newRoot);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                newRoot = hashChildren(newRoot, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        // Step 7 (the root comparisons are the caller's).
        ok = sn == 0;
    }

    /**
     * @notice Whether `proof` proves that the tree of `size2` leaves with root `root2` is an append-only
     * extension of the tree of `size1` leaves with root `root1`.
     * @dev Equal sizes need an empty proof and equal roots. A proof from the empty tree (size1 = 0) is
     * refused: it is meaningless, any tree extends the empty one.
     * @param size1 the old tree size
     * @param size2 the new tree size
     * @param root1 the old root
     * @param root2 the new root
     * @param proof the consistency proof
     * @return true if the proof verifies
     */
    function verifyConsistency(uint64 size1, uint64 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        if (size1 == 0 || size2 < size1) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        if (proof.length != consistencyProofLength(size1, size2)) return false;
        (bool ok, bytes32 oldRoot, bytes32 newRoot) = rootsFromConsistencyProof(size1, size2, root1, proof);
        return ok && oldRoot == root1 && newRoot == root2;
    }
}
