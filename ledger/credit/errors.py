"""Errors of credit profiles: bad input (400, naming the field), unknown
subjects (404), an unusable rules file, and an export that does not prove what
it claims (422)."""

from __future__ import annotations

from ledger.errors import ConfigError, InputError, LedgerError, NotFoundError


class CreditInputError(InputError):
    """An argument is malformed. ``field`` names it (``id``, ``lang``, ``out``...)."""


class SubjectNotFoundError(NotFoundError):
    """No participant or trader is known under the id asked for."""


class RulesError(ConfigError):
    """The rules file cannot be read or breaks the rules schema; the message names the rule and key."""

    http_status = 500


class ProfileExportError(LedgerError):
    """A profile export is malformed, or does not prove what it claims."""

    http_status = 422
