"""One root exception for everything traceledger raises on purpose.

Callers catch :class:`LedgerError` to handle any expected failure, or a
domain branch (``ChainError``, ``IndexError_``...) to handle one kind. Every
message says what went wrong and, where it can, the likely cause, so the CLI
can print it as one line and the API can return it as a 4xx body.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error traceledger raises deliberately.

    ``http_status`` is what the API answers when this error escapes a route;
    the CLI prints ``str(error)`` and exits non-zero.
    """

    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(LedgerError):
    """An argument is malformed; nothing was done. ``field`` names the argument, and starts the message."""

    http_status = 400

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class ConfigError(LedgerError):
    """Settings, data directory or command-line options are unusable."""


class KeystoreError(LedgerError):
    """A keystore file is missing, unreadable, or its password is wrong."""

    http_status = 401


class ChainError(LedgerError):
    """The chain node is unreachable or refused a transaction."""

    http_status = 503


class ContractNotDeployedError(ChainError):
    """A contract the data directory expects is not on the chain."""


class IndexStoreError(LedgerError):
    """The SQL index cannot be opened or migrated."""

    http_status = 503


class LogError(LedgerError):
    """The Merkle log was asked something it cannot answer, or a proof failed."""


class NotFoundError(LedgerError):
    """The requested record does not exist."""

    http_status = 404
