"""Signed EPCIS 2.0 capture: authorship, role policy, storage, query."""
