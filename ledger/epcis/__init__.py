"""GS1 EPCIS 2.0 capture: CBV vocabularies, EPC identifiers and event validation."""
