"""The reliability suite (issue 8): crashes, chain faults, tampering and load, each printing its figures."""
