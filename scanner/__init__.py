"""Scanner side of traceledger: QR/DataMatrix decoding, GS1 parsing, QR labels.

- :mod:`scanner.labels`: a GS1 Digital Link URI as a QR label (PNG, SVG)
  with the GS1 human-readable text under it, and A4 label sheets (PDF, PNG);
  ``traceledger qr`` on the command line (:mod:`scanner.cli`).
- :mod:`scanner.decode`: QR codes and GS1 DataMatrix symbols in an image
  (zxing-cpp), each with its GS1 meaning as a
  :class:`ledger.epcis.identifiers.Identifier`, whether the symbol held a
  Digital Link or GS1 element strings.

The scanner talks to the API over HTTP and to the chain over JSON-RPC; from
``ledger`` it reuses only pure code (identifier parsing, errors).
"""
