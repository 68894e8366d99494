"""Records: what the Merkle log commits to, one leaf per record."""
