"""Anchoring: checkpoints of the Merkle log written to the CheckpointAnchor contract."""
