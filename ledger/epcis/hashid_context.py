"""The EPCIS 2.0 JSON-LD context, as far as the canonical event hash needs it.

JSON/JSON-LD events may write CBV values in their short form (``"bizStep":
"shipping"``); the JSON-LD context turns them into web-vocabulary IRIs
(``https://ref.gs1.org/cbv/BizStep-shipping``).  The reference implementation does
this with a full JSON-LD expansion of the document (pyld), collects every expanded
string that starts with ``https://ref.gs1.org/cbv`` or ``https://gs1.org/voc`` and then
replaces *any* string value of the document that is the tail of exactly one of those
IRIs (the part after a ``/`` or ``-``).  The heuristic reaches beyond the CBV fields
(an ILMD value ``"shipping"`` also becomes the BizStep IRI when the event's bizStep is
``shipping``) and we must reproduce it to get the same IDs.

Instead of a JSON-LD expansion we walk the event once with precomputed tables of the
EPCIS 2.0 context (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld):
which terms exist in which scope, which are IRI-valued (``@type: @id``), which are
vocabulary-valued (``@type: @vocab``) and the CBV / GS1 terms their scoped contexts
define.  The tables are checked against the context file shipped with the reference
implementation in the tests.

Supported extension contexts (the event's ``@context``): the EPCIS context URL(s),
plus objects whose entries map a prefix or term to an IRI string, ``{"@id": iri,
"@type": "@id" | "@vocab"}`` term definitions and ``@vocab``.  Other remote context
URLs are not fetched (nothing here touches the network); terms they would define are
treated as undefined, which can only matter for the short-value heuristic above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = [
    "CBV",
    "EPCIS_CONTEXT_URLS",
    "GS1_VOC",
    "Context",
    "build_context",
    "expanded_vocabulary_iris",
    "replacement_table",
]

EPCIS_CONTEXT_URLS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
_INTERESTING = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")

# --------------------------------------------------------------------------- vocabularies


def _terms(prefix: str, names: str) -> dict[str, str]:
    return {n: prefix + n for n in names.split()}


BIZSTEP = _terms(
    CBV + "BizStep-",
    "accepting arriving assembling collecting commissioning consigning creating_class_instance cycle_counting "
    "decommissioning departing destroying disassembling dispensing encoding entering_exiting holding inspecting "
    "installing killing loading other packing picking receiving removing repackaging repairing replacing reserving "
    "retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing transporting "
    "unloading unpacking void_shipping",
)
DISP = _terms(
    CBV + "Disp-",
    "active available completeness_verified completeness_inferred conformant container_closed container_open "
    "damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance "
    "mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other "
    "partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible stolen "
    "unavailable unknown",
)
BTT = _terms(CBV + "BTT-", "bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt")
SDT = _terms(CBV + "SDT-", "owning_party possessing_party location")
ER = _terms(CBV + "ER-", "did_not_occur incorrect_data")
COMP = _terms(
    CBV + "Comp-",
    "x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting northing latitude "
    "longitude altitude",
)
MEASUREMENT = _terms(
    GS1_VOC,
    "AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude AmountOfSubstance "
    "AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area Capacitance "
    "Conductance Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate DynamicViscosity "
    "ElectricCharge ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency "
    "Illuminance Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux "
    "LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass MassConcentration MassFlowRate "
    "MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy MolarMass MolarVolume Power Pressure RadiantFlux "
    "RadiantIntensity RelativeHumidity Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity "
    "SurfaceTension Temperature Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux Wavenumber",
)
EXCEPTION = _terms(GS1_VOC, "ALARM_CONDITION ERROR_CONDITION")

# Prefixes of the EPCIS context (all usable in compact IRIs).
EPCIS_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

# --------------------------------------------------------------------------- scopes

# How a term's string values expand.
LIT, IRI, VOCAB = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Term:
    kind: int  # LIT / IRI / VOCAB
    table: dict[str, str] | None = None  # scoped CBV/GS1 terms for VOCAB values
    scope: str | None = None  # name of the scope nested objects are read in (None: same)


_lit, _iri, _voc = Term(LIT), Term(IRI), Term(VOCAB)  # plain terms; VOCAB w/o table is "@type"

_TOP: dict[str, Term] = {
    **{t: _lit for t in EPCIS_PREFIXES},
    **{
        t: _lit
        for t in [
            "ObjectEvent",
            "AggregationEvent",
            "TransformationEvent",
            "AssociationEvent",
            "TransactionEvent",
            "Collection",
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "action",
            "quantity",
            "uom",
            "quantityList",
            "childQuantityList",
            "inputQuantityList",
            "outputQuantityList",
            "ilmd",
            "creationDate",
            "sender",
            "receiver",
            "instanceIdentifier",
            "schemaVersion",
            "EPCISDocument",
            "EPCISQueryDocument",
            "epcisHeader",
            "masterData",
            "vocabularyList",
            "epcisBody",
            "queryResults",
            "subscriptionID",
            "queryName",
            "resultsBody",
            "eventList",
        ]
    },
    **{
        t: _iri
        for t in [
            "id",
            "eventID",
            "member",
            "certificationInfo",
            "bizLocation",
            "readPoint",
            "transformationID",
            "epcList",
            "epcClass",
            "parentID",
            "childEPCs",
            "inputEPCList",
            "outputEPCList",
            "children",
        ]
    },
    "type": _voc,  # alias of @type: expanded as a vocabulary IRI
    "bizStep": Term(VOCAB, BIZSTEP),
    "disposition": Term(VOCAB, DISP),
    "sourceList": Term(LIT, None, "source"),
    "destinationList": Term(LIT, None, "destination"),
    "persistentDisposition": Term(LIT, None, "persistentDisposition"),
    "bizTransactionList": Term(LIT, None, "bizTransaction"),
    "sensorElementList": Term(LIT, None, "sensorElement"),
    "errorDeclaration": Term(LIT, None, "errorDeclaration"),
}
_SENSOR_ELEMENT = {
    **_TOP,
    **dict.fromkeys(("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod"), _iri),
    "time": _lit,
    "type": _voc,
    "sensorMetadata": Term(LIT, None, "sensorMetadata"),
    "sensorReport": Term(LIT, None, "sensorReport"),
}
SCOPES: dict[str, dict[str, Term]] = {
    "top": _TOP,
    "source": {**_TOP, "source": _iri, "type": Term(VOCAB, SDT)},
    "destination": {**_TOP, "destination": _iri, "type": Term(VOCAB, SDT)},
    "persistentDisposition": {**_TOP, "set": Term(VOCAB, DISP), "unset": Term(VOCAB, DISP)},
    "bizTransaction": {**_TOP, "bizTransaction": _iri, "type": Term(VOCAB, BTT)},
    "sensorElement": _SENSOR_ELEMENT,
    "sensorMetadata": {**_SENSOR_ELEMENT, "startTime": _lit, "endTime": _lit, "bizRules": _iri},
    "sensorReport": {
        **_SENSOR_ELEMENT,
        "type": Term(VOCAB, MEASUREMENT),
        "exception": Term(VOCAB, EXCEPTION),
        "component": Term(VOCAB, COMP),
        **dict.fromkeys(("coordinateReferenceSystem", "microorganism", "chemicalSubstance", "uriValue"), _iri),
        **dict.fromkeys(
            [
                "value",
                "stringValue",
                "booleanValue",
                "hexBinaryValue",
                "minValue",
                "maxValue",
                "meanValue",
                "sDev",
                "percRank",
                "percValue",
            ],
            _lit,
        ),
    },
    "errorDeclaration": {
        **_TOP,
        "reason": Term(VOCAB, ER),
        "correctiveEventIDs": _iri,
        "declarationTime": _lit,
    },
}
# Terms whose own IRI is interesting when a vocabulary value names them directly.
_TERM_IRIS = {"cbv": CBV, "gs1": GS1_VOC}
_KEYWORDS = {"@id": _iri, "@type": _voc, "@value": _lit}

# --------------------------------------------------------------------------- user contexts

_GEN_DELIM_END = re.compile(r".*[:/?#\[\]@]$", re.DOTALL)  # JSON-LD 1.1 "usable as prefix"
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


@dataclass(frozen=True, slots=True)
class Context:
    """The extension context of one event, prepared once and cached.

    ``key_ns`` / ``value_ns``: textual prefix replacement of the reference
    implementation (keys become ``{iri}local``, values ``iri``+``local``); only
    string-valued entries of the context objects count.  ``prefixes`` / ``terms`` /
    ``vocab``: what JSON-LD expansion would know, for the short-value heuristic.
    """

    key_ns: dict[str, str] = field(default_factory=dict)
    value_ns: dict[str, str] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=lambda: dict(EPCIS_PREFIXES))
    terms: dict[str, Term] = field(default_factory=dict)
    term_iris: dict[str, str] = field(default_factory=dict)
    vocab: str | None = None
    # match() of an IRI-valued string that might expand to an interesting IRI:
    # already one, or a compact IRI whose prefix could make one
    hot_iri: Any = None

    def __post_init__(self) -> None:
        hot = [re.escape(p) + ":" for p, iri in self.prefixes.items() if _may_be_interesting(iri)]
        pattern = "|".join([r"https://ref\.gs1\.org/cbv", r"https://gs1\.org/voc", *hot])
        object.__setattr__(self, "hot_iri", re.compile(pattern).match)


def _may_be_interesting(iri: str) -> bool:
    """Can ``iri`` + some suffix start with an interesting prefix?"""
    return any(iri.startswith(p) or p.startswith(iri) for p in _INTERESTING)


DEFAULT_CONTEXT = Context()


def build_context(entries: tuple[Any, ...]) -> Context:
    """Prepare the extension context made of ``entries`` (strings and objects, in
    order).  Raises ``ValueError`` for entries that cannot be a JSON-LD context or
    that redefine a protected EPCIS term (JSON-LD processors reject those too)."""
    if not entries:
        return DEFAULT_CONTEXT
    key_ns: dict[str, str] = {}
    value_ns: dict[str, str] = {}
    prefixes = dict(EPCIS_PREFIXES)
    terms: dict[str, Term] = {}
    term_iris: dict[str, str] = {}
    vocab = None
    for entry in entries:
        if isinstance(entry, str) or entry is None:
            continue  # remote contexts are not fetched (see module docstring)
        if not isinstance(entry, dict):
            raise ValueError(f"@context: entries must be strings or objects, got {type(entry).__name__}")  # noqa: TRY004
        for name, value in entry.items():
            if not isinstance(name, str):
                raise ValueError("@context: term names must be strings")  # noqa: TRY004
            if name.startswith("@"):
                if name == "@vocab" and isinstance(value, str):
                    vocab = value
                continue
            if name in _TOP and _definition_differs(name, value):
                raise ValueError(f"@context: redefines the protected EPCIS term {name!r}")
            if isinstance(value, str):
                key_ns[name] = "{" + value + "}"
                value_ns[name] = value.replace("{", "").replace("}", "")
                iri = _expand_term_iri(value, prefixes)
                term_iris[name] = iri
                terms[name] = _lit
                if ":" not in name and (iri.startswith("_:") or _GEN_DELIM_END.match(iri)):
                    prefixes[name] = iri
            elif isinstance(value, dict) and isinstance(value.get("@id"), str):
                iri = _expand_term_iri(value["@id"], prefixes)
                term_iris[name] = iri
                kind = {"@id": IRI, "@vocab": VOCAB}.get(value.get("@type"), LIT)  # type: ignore[arg-type]
                terms[name] = Term(kind)
                if value.get("@prefix") is True:
                    prefixes[name] = iri
            elif value is None:
                terms[name] = Term(-1)  # explicitly undefined: dropped by expansion
    return Context(key_ns, value_ns, prefixes, terms, term_iris, vocab)


def _definition_differs(name: str, value: Any) -> bool:
    if name in EPCIS_PREFIXES:
        return value != EPCIS_PREFIXES[name]
    return True  # any other redefinition of an EPCIS term (they are all @protected)


def _expand_term_iri(value: str, prefixes: dict[str, str]) -> str:
    prefix, sep, suffix = value.partition(":")
    if sep and prefix in prefixes and not suffix.startswith("//"):
        return prefixes[prefix] + suffix
    return value


# --------------------------------------------------------------------------- expansion walk


def expanded_vocabulary_iris(event: dict[str, Any], ctx: Context) -> set[str]:
    """The set of strings JSON-LD expansion of ``event`` (with ``ctx``) would produce
    that start with ``https://ref.gs1.org/cbv`` or ``https://gs1.org/voc``."""
    found: set[str] = set()
    _walk_node(event, SCOPES["top"], ctx, found)
    return found


def _walk_node(node: dict[str, Any], scope: dict[str, Term], ctx: Context, found: set[str]) -> None:
    # EPCIS terms first: the user context cannot redefine them (they are @protected)
    # and the scoped EPCIS contexts are applied after it.
    for key, value in node.items():
        term = scope.get(key)
        if term is None:
            if value is None:
                continue
            term = _extension_term(key, ctx)
            if term is None:  # dropped by JSON-LD expansion, so is everything below it
                continue
        tv = type(value)
        if tv is str:
            # Inlined fast rejections of _expand_value for the common cases: a literal,
            # or an IRI that is neither interesting already nor a known compact IRI.
            if term.kind == LIT:
                if value.startswith(_INTERESTING):
                    found.add(value)
                continue
            if term.kind == IRI and ctx.vocab is None and not value.startswith(_INTERESTING):
                colon = value.find(":")
                if colon <= 0 or value[:colon] not in ctx.prefixes:
                    continue
            iri = _expand_value(value, term, ctx, scope)
            if iri is not None:
                found.add(iri)
        elif tv is list:
            if term.kind == IRI and ctx.vocab is None:
                # EPC lists and the like: skip the whole list at C speed when no
                # item can expand to an interesting IRI (the usual case)
                try:
                    if not any(map(ctx.hot_iri, value)):
                        continue
                except TypeError:  # not all strings: look at each item
                    pass
            _walk_list(value, term, SCOPES[term.scope] if term.scope else scope, ctx, found)
        elif tv is dict:
            _walk_node(value, SCOPES[term.scope] if term.scope else scope, ctx, found)


def _walk_list(items: list[Any], term: Term, scope: dict[str, Term], ctx: Context, found: set[str]) -> None:
    kind = term.kind
    for item in items:
        ti = type(item)
        if ti is str:
            if kind == IRI and ctx.vocab is None and not item.startswith(_INTERESTING):
                colon = item.find(":")
                if colon <= 0 or item[:colon] not in ctx.prefixes:
                    continue
            iri = _expand_value(item, term, ctx, scope)
            if iri is not None:
                found.add(iri)
        elif ti is dict:
            _walk_node(item, scope, ctx, found)
        elif ti is list:
            _walk_list(item, term, scope, ctx, found)


def _extension_term(key: str, ctx: Context) -> Term | None:
    """How expansion treats a key that the EPCIS context does not define."""
    term = ctx.terms.get(key)
    if term is not None:
        return None if term.kind < 0 else term
    if key.startswith("@"):
        return _KEYWORDS.get(key)
    prefix, sep, suffix = key.partition(":")
    if (
        sep
        and prefix
        and (prefix == "_" or suffix.startswith("//") or prefix in ctx.prefixes or _ABSOLUTE_IRI.match(key))
    ):
        return _lit  # a compact or absolute IRI
    return _lit if ctx.vocab is not None else None


def _expand_value(value: str, term: Term, ctx: Context, scope: dict[str, Term]) -> str | None:
    """The expanded form of a string value if it is an interesting IRI, else None.

    ``scope``: the EPCIS terms in force where the value is (JSON-LD expands a
    vocabulary value that names a term to the term's IRI, before anything else)."""
    kind = term.kind
    if kind == VOCAB:
        if term.table is not None:
            hit = term.table.get(value)
            if hit is not None:
                return hit
        hit = ctx.term_iris.get(value) or _TERM_IRIS.get(value)
        if hit is not None:
            return hit if hit.startswith(_INTERESTING) else None
    if value.startswith(_INTERESTING):  # literal, or already an absolute IRI
        return value
    if kind == LIT:
        return None
    colon = value.find(":")
    if colon > 0:
        iri = ctx.prefixes.get(value[:colon])
        if iri is not None and not value.startswith("//", colon + 1):
            iri += value[colon + 1 :]
            return iri if iri.startswith(_INTERESTING) else None
        if ctx.vocab is None or value[:colon] == "_" or _ABSOLUTE_IRI.match(value):
            return None  # an absolute IRI, already checked above
    if kind == VOCAB and ctx.vocab is not None and value not in scope:
        iri = ctx.vocab + value
        return iri if iri.startswith(_INTERESTING) else None
    return None  # a relative IRI: resolved against a base that is never a CBV IRI


# --------------------------------------------------------------------------- replacement


def replacement_table(iris: set[str]) -> dict[str, str]:
    """Short value -> IRI for every tail (text after a ``/`` or ``-``) of exactly one
    IRI in ``iris``: the values the reference implementation rewrites."""
    if len(iris) == 1:
        (iri,) = iris
        return _tails(iri)
    table: dict[str, str] = {}
    ambiguous = []
    for iri in iris:
        for tail in _tails(iri):
            if tail in table:
                ambiguous.append(tail)
            else:
                table[tail] = iri
    for tail in ambiguous:
        table.pop(tail, None)
    return table


@lru_cache(maxsize=4096)
def _tails(iri: str) -> dict[str, str]:
    """tail -> iri for each tail of ``iri`` (shared, read-only)."""
    return {iri[i + 1 :]: iri for i, ch in enumerate(iri) if ch == "/" or ch == "-"}
