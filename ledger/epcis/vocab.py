"""CBV 2.0 vocabularies: business steps, dispositions, transaction types...

A CBV value reaches us in one of three spellings, all meaning the same term:

- short form, as the EPCIS 2.0 JSON-LD context defines it: ``shipping``;
- URN form (EPCIS 1.x, XML captures): ``urn:epcglobal:cbv:bizstep:shipping``;
- Web URI form (CBV 2.0): ``https://ref.gs1.org/cbv/BizStep-shipping``.

:func:`normalize` reduces all three to the short form, so stored events and
queries compare equal whatever the submitter used. The event hash is not
affected: it expands every CBV term to its Web URI before hashing.

Anything else must be a user extension: an absolute URI outside the CBV
namespaces (``https://example.com/steps/fumigating``), kept as given. A bare
word that is not a CBV term, or a URI inside a CBV namespace that names no
CBV 2.0 term, is rejected: both are almost always typos, and accepting them
would store a value no trading partner can interpret.

Project extension
-----------------
traceledger defines one term of its own, in its own namespace
``https://traceledger.dev/voc/``:

``https://traceledger.dev/voc/btt/customs_declaration``
    bizTransaction type of an export or import customs declaration; the
    ``bizTransaction`` value is the declaration's identifier (URI) at the
    customs authority. Used by the cross-border trade events.

``https://traceledger.dev/voc/bizstep/customs_clearing``
    bizStep: customs cleared the goods of a declaration (CBV 2.0 has no
    such step); only a CUSTOMS participant may record it.

The project namespace is treated like a CBV namespace: a term in it that is
not listed here is rejected, so a misspelt project term fails at capture
instead of silently becoming a third-party extension.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from ledger.epcis.errors import VocabularyError, json_type_name

CBV_URN_NAMESPACE = "urn:epcglobal:cbv:"
CBV_WEB_NAMESPACE = "https://ref.gs1.org/cbv/"
PROJECT_NAMESPACE = "https://traceledger.dev/voc/"

# Namespaces a value may not invent terms in. The http:// and ns.gs1.org
# spellings never held valid CBV 2.0 terms (the latter is the pre-release
# namespace), so a value there is a mistake, not an extension.
_RESERVED_NAMESPACES = (
    CBV_URN_NAMESPACE,
    CBV_WEB_NAMESPACE,
    "http://ref.gs1.org/cbv/",
    "https://ns.gs1.org/cbv/",
    "http://ns.gs1.org/cbv/",
    PROJECT_NAMESPACE,
)

BTT_CUSTOMS_DECLARATION = PROJECT_NAMESPACE + "btt/customs_declaration"
BIZ_STEP_CUSTOMS_CLEARING = PROJECT_NAMESPACE + "bizstep/customs_clearing"


class TermKind(StrEnum):
    """What an accepted vocabulary value is."""

    CBV = "cbv"
    """A CBV 2.0 term (returned normalised to its short form)."""

    EXTENSION = "extension"
    """An absolute URI outside the CBV namespaces (including traceledger's own terms)."""


@dataclass(frozen=True)
class Vocabulary:
    """One CBV vocabulary and the spellings of its terms."""

    field: str
    """The EPCIS field it types, used in messages (``bizStep``)."""

    urn_prefix: str
    web_prefix: str
    terms: frozenset[str]
    project_terms: frozenset[str] = frozenset()
    """Full URIs of traceledger's own terms for this vocabulary."""

    def urn(self, term: str) -> str:
        return self.urn_prefix + term

    def web_uri(self, term: str) -> str:
        return self.web_prefix + term


BIZ_STEP = Vocabulary(
    field="bizStep",
    urn_prefix=CBV_URN_NAMESPACE + "bizstep:",
    web_prefix=CBV_WEB_NAMESPACE + "BizStep-",
    terms=frozenset(
        [
            "accepting",
            "arriving",
            "assembling",
            "collecting",
            "commissioning",
            "consigning",
            "creating_class_instance",
            "cycle_counting",
            "decommissioning",
            "departing",
            "destroying",
            "disassembling",
            "dispensing",
            "encoding",
            "entering_exiting",
            "holding",
            "inspecting",
            "installing",
            "killing",
            "loading",
            "other",
            "packing",
            "picking",
            "receiving",
            "removing",
            "repackaging",
            "repairing",
            "replacing",
            "reserving",
            "retail_selling",
            "sampling",
            "sensor_reporting",
            "shipping",
            "staging_outbound",
            "stock_taking",
            "stocking",
            "storing",
            "transporting",
            "unloading",
            "unpacking",
            "void_shipping",
        ]
    ),
    project_terms=frozenset({BIZ_STEP_CUSTOMS_CLEARING}),
)


DISPOSITION = Vocabulary(
    field="disposition",
    urn_prefix=CBV_URN_NAMESPACE + "disp:",
    web_prefix=CBV_WEB_NAMESPACE + "Disp-",
    terms=frozenset(
        [
            "active",
            "available",
            "completeness_inferred",
            "completeness_verified",
            "conformant",
            "container_closed",
            "container_open",
            "damaged",
            "destroyed",
            "dispensed",
            "disposed",
            "encoded",
            "expired",
            "in_progress",
            "in_transit",
            "inactive",
            "mismatch_instance",
            "mismatch_class",
            "mismatch_quantity",
            "needs_replacement",
            "no_pedigree_match",
            "non_conformant",
            "non_sellable_other",
            "partially_dispensed",
            "recalled",
            "reserved",
            "retail_sold",
            "returned",
            "sellable_accessible",
            "sellable_not_accessible",
            "stolen",
            "unavailable",
            "unknown",
        ]
    ),
)

BIZ_TRANSACTION_TYPE = Vocabulary(
    field="bizTransaction type",
    urn_prefix=CBV_URN_NAMESPACE + "btt:",
    web_prefix=CBV_WEB_NAMESPACE + "BTT-",
    terms=frozenset(
        [
            "bol",
            "cert",
            "desadv",
            "inv",
            "pedigree",
            "po",
            "poc",
            "prodorder",
            "recadv",
            "rma",
            "testprd",
            "testres",
            "upevt",
        ]
    ),
    project_terms=frozenset({BTT_CUSTOMS_DECLARATION}),
)

SOURCE_DESTINATION_TYPE = Vocabulary(
    field="source/destination type",
    urn_prefix=CBV_URN_NAMESPACE + "sdt:",
    web_prefix=CBV_WEB_NAMESPACE + "SDT-",
    terms=frozenset({"owning_party", "possessing_party", "location"}),
)

ERROR_REASON = Vocabulary(
    field="errorDeclaration reason",
    urn_prefix=CBV_URN_NAMESPACE + "er:",
    web_prefix=CBV_WEB_NAMESPACE + "ER-",
    terms=frozenset({"did_not_occur", "incorrect_data"}),
)

VOCABULARIES = (BIZ_STEP, DISPOSITION, BIZ_TRANSACTION_TYPE, SOURCE_DESTINATION_TYPE, ERROR_REASON)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN_IN_URI = re.compile(r"[\s\x00-\x1f\x7f<>\"{}|\\^`]")


def is_absolute_uri(value: str) -> bool:
    """Whether ``value`` is an absolute URI (RFC 3986: a scheme, then a non-empty rest).

    Compact IRIs such as ``example:fumigating`` pass: JSON-LD expands them
    through the document's context, and syntactically they are absolute URIs.
    """
    match = _SCHEME.match(value)
    if match is None or match.end() == len(value) or _FORBIDDEN_IN_URI.search(value):
        return False
    if value[: match.end()].lower() in ("http:", "https:"):
        return value[match.end() :].startswith("//") and len(value) > match.end() + 2
    return True


def classify(vocabulary: Vocabulary, value: object) -> tuple[TermKind, str]:
    """Say what ``value`` is in ``vocabulary`` and give its normal form.

    Returns ``(TermKind.CBV, short_form)`` for a CBV term in any of its three
    spellings, ``(TermKind.EXTENSION, value)`` for a usable extension URI.
    Raises :class:`VocabularyError` for anything else.
    """
    if not isinstance(value, str):
        raise VocabularyError(vocabulary.field, repr(value), f"must be a string, got {json_type_name(value)}")
    if value in vocabulary.terms:
        return TermKind.CBV, value
    for prefix in (vocabulary.urn_prefix, vocabulary.web_prefix):
        if value.startswith(prefix) and value[len(prefix) :] in vocabulary.terms:
            return TermKind.CBV, value[len(prefix) :]
    if value in vocabulary.project_terms:
        return TermKind.EXTENSION, value
    if any(value.startswith(namespace) for namespace in _RESERVED_NAMESPACES):
        raise VocabularyError(vocabulary.field, value, _reserved_namespace_reason(vocabulary, value))
    if is_absolute_uri(value):
        return TermKind.EXTENSION, value
    raise VocabularyError(vocabulary.field, value, _unknown_word_reason(vocabulary, value))


def normalize(vocabulary: Vocabulary, value: object) -> str:
    """The short form of a CBV term, or an extension URI unchanged.

    ``normalize(BIZ_STEP, "urn:epcglobal:cbv:bizstep:shipping") == "shipping"``.
    Raises :class:`VocabularyError` when the value is neither.
    """
    return classify(vocabulary, value)[1]


def is_cbv_term(vocabulary: Vocabulary, value: object) -> bool:
    """Whether ``value`` is a CBV 2.0 term of ``vocabulary``, in any spelling."""
    try:
        return classify(vocabulary, value)[0] is TermKind.CBV
    except VocabularyError:
        return False


def is_extension(vocabulary: Vocabulary, value: object) -> bool:
    """Whether ``value`` is an acceptable extension URI for ``vocabulary``."""
    try:
        return classify(vocabulary, value)[0] is TermKind.EXTENSION
    except VocabularyError:
        return False


def _reserved_namespace_reason(vocabulary: Vocabulary, value: str) -> str:
    for other in VOCABULARIES:
        if other is vocabulary:
            continue
        if value in other.project_terms or any(
            value.startswith(prefix) and value[len(prefix) :] in other.terms
            for prefix in (other.urn_prefix, other.web_prefix)
        ):
            return f"{value} is a {other.field} value, not a {vocabulary.field}"
    if value.startswith(PROJECT_NAMESPACE):
        known = ", ".join(sorted(vocabulary.project_terms)) or "none"
        return f"{value} is not a traceledger {vocabulary.field} term (defined: {known})"
    term = value.rstrip("/").rsplit(":", 1)[-1].rsplit("-", 1)[-1]
    hint = _suggestion(vocabulary, term)
    return (
        f"{value} lies in a CBV namespace but is not a CBV 2.0 {vocabulary.field}{hint}; "
        f"the URN form is {vocabulary.urn_prefix}<term> and the Web URI form {vocabulary.web_prefix}<term>"
    )


def _unknown_word_reason(vocabulary: Vocabulary, value: str) -> str:
    return (
        f"{value!r} is not a CBV 2.0 {vocabulary.field}{_suggestion(vocabulary, value)}; "
        "an extension value must be an absolute URI"
    )


def _suggestion(vocabulary: Vocabulary, word: str) -> str:
    close = difflib.get_close_matches(word.lower(), sorted(vocabulary.terms), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
