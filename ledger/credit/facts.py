"""Facts: what the ledger itself says about a subject, each with the evidence that proves it.

A :class:`Fact` has a value (a count, a share, seconds, a level...) and, for
a count, the occurrences it counts (``items``), each carrying its evidence
links (:mod:`ledger.credit.evidence`). A profile lists at most
``max_per_fact`` occurrences per fact (the rules file sets it); ``total`` is
always the exact count, and ``complete`` says whether every occurrence is
listed, in which case a verifier checks that the value is the number listed.

:data:`CATALOGUE` names every fact the rules may use, with its type and its
description in Chinese and English. The gatherers that compute them live in
one module per source: :mod:`.activity` (events and registered goods),
:mod:`.refusals`, :mod:`.anchoring`, :mod:`.registry`, :mod:`.recalls` and
:mod:`.packs` (with the ProductStatus mirror), and :mod:`.trader`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COUNT, MAXIMUM, SHARE, SECONDS, FLAG, NAME = "count", "maximum", "share", "seconds", "flag", "name"
NUMERIC = (COUNT, MAXIMUM, SHARE, SECONDS)
"""A count counts the occurrences it lists; a maximum is the largest of some measure, shown with where it occurs."""


@dataclass(frozen=True)
class FactSpec:
    name: str
    subject: str  # participant or trader
    type: str
    zh: str
    en: str


def _spec(subject: str, name: str, type_: str, zh: str, en: str) -> tuple[str, FactSpec]:
    return name, FactSpec(name, subject, type_, zh, en)


CATALOGUE: dict[str, FactSpec] = dict([
    _spec("participant", "activity.events", COUNT, "记录的事件数", "Events it recorded"),
    _spec("participant", "registered.lots", COUNT, "登记的批次数", "Lots it registered"),
    _spec("participant", "registered.packs", COUNT, "登记的单品（药盒）数", "Packs (serialized items) it registered"),
    _spec("participant", "recalls.total", COUNT, "其批次被召回的次数", "Recalls of its goods"),
    _spec("participant", "recalls.imposed", COUNT, "由监管机构发起的召回", "Recalls of its goods imposed by a regulator"),
    _spec("participant", "recalls.voluntary", COUNT, "自主召回", "Voluntary recalls (by itself)"),
    _spec("participant", "recalls.max_reach", MAXIMUM, "单次召回波及的下游货物最多数量",
          "Most goods downstream of one recall"),
    _spec("participant", "recalls.max_holders", MAXIMUM, "单次召回波及的下游持有方最多数量",
          "Most downstream holders reached by one recall"),
    _spec("participant", "packs.rescanned_after_dispensing", COUNT, "已配药（已注销）单品被再次扫描的事件",
          "Events on packs already dispensed or decommissioned"),
    _spec("participant", "packs.status_contradictions", COUNT, "链上状态与事件记录矛盾的单品",
          "Packs whose on-chain status contradicts its events"),
    _spec("participant", "captures.refused_policy", COUNT, "因角色规则被拒绝的提交", "Captures refused by the role policy"),
    _spec("participant", "captures.refused_customs", COUNT, "因海关白名单被拒绝的提交",
          "Captures refused for trader claims (customs whitelist)"),
    _spec("participant", "captures.refusal_share", SHARE, "被拒绝提交的比例", "Share of its captures refused"),
    _spec("participant", "anchoring.share", SHARE, "已锚定上链的事件比例", "Share of its events anchored on chain"),
    _spec("participant", "anchoring.unanchored", COUNT, "尚未锚定的事件", "Events not anchored yet"),
    _spec("participant", "anchoring.delay_p50_s", SECONDS, "锚定延迟中位数（秒）", "Median anchoring delay (s)"),
    _spec("participant", "anchoring.delay_max_s", SECONDS, "最长锚定延迟（秒）", "Longest anchoring delay (s)"),
    _spec("participant", "registry.suspensions", COUNT, "在参与方登记合约中被暂停的次数", "Suspensions in the registry"),
    _spec("participant", "registry.active", FLAG, "当前在登记合约中为有效状态", "Active in the registry now"),
    _spec("trader", "whitelist.listed", FLAG, "当前在海关白名单上", "On the customs whitelist now"),
    _spec("trader", "whitelist.level", NAME, "当前信用等级", "Credit level now"),
    _spec("trader", "whitelist.status", NAME, "当前名单状态", "Whitelist status now"),
    _spec("trader", "whitelist.revocations", COUNT, "被撤销的次数", "Revocations"),
    _spec("trader", "whitelist.suspensions", COUNT, "被暂停的次数", "Suspensions"),
    _spec("trader", "whitelist.downgrades", COUNT, "信用等级被下调的次数", "Credit level downgrades"),
    _spec("trader", "whitelist.dishonest_spells", COUNT, "被列为失信企业的次数", "Times listed as dishonest"),
    _spec("trader", "whitelist.repairs", COUNT, "信用修复次数", "Credit repairs"),
    _spec("trader", "customs.refusals", COUNT, "因白名单被拒绝的报关相关提交", "Captures refused for its claims"),
    _spec("trader", "customs.declarations", COUNT, "以其名义的出口申报事件", "Export declarations naming it"),
    _spec("trader", "customs.clearances", COUNT, "海关放行事件", "Customs clearances naming it"),
])


@dataclass
class Fact:
    """One fact of one subject. For counts, ``value == total`` and ``items`` lists up to the cap."""

    name: str
    value: Any
    items: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None

    @property
    def complete(self) -> bool:
        return self.total is None or len(self.items) >= self.total

    def evidence(self) -> list[dict[str, Any]]:
        """Every evidence link of the listed occurrences, once each, in order."""
        seen: dict[str, dict[str, Any]] = {}
        for item in self.items:
            for ref in item.get("evidence", ()):
                seen.setdefault(_ref_key(ref), ref)
        return list(seen.values())

    def to_json(self) -> dict[str, Any]:
        spec = CATALOGUE[self.name]
        return {
            "name": self.name,
            "type": spec.type,
            "description": {"zh": spec.zh, "en": spec.en},
            "value": self.value,
            "total": self.total,
            "complete": self.complete,
            "items": self.items,
        }


def _ref_key(ref: dict[str, Any]) -> str:
    kind = ref.get("kind")
    if kind == "event":
        return f"event:{ref['logIndex']}"
    if kind == "checkpoint":
        return f"checkpoint:{ref['treeSize']}"
    if kind == "transaction":
        return f"tx:{ref['txHash']}:{ref['logIndex']}"
    return f"{kind}:{ref.get('captureID')}"


def count_fact(name: str, items: list[dict[str, Any]], total: int | None = None, *, limit: int) -> Fact:
    """A count fact from its occurrences (``total`` when only some were read), listing at most ``limit``."""
    exact = len(items) if total is None else total
    return Fact(name, exact, items[:limit], exact)


def value_fact(name: str, value: Any, items: list[dict[str, Any]] | None = None) -> Fact:
    """A fact that is not a count (a share, a delay, a flag, a level); ``items`` support it."""
    return Fact(name, value, list(items or []), None)


@dataclass(frozen=True)
class Gathering:
    """What every gatherer is given: who, how many occurrences to list, the chain's contracts, the time."""

    ids: list[str]
    limit: int
    contracts: dict[str, str]
    now: float


@dataclass
class Findings:
    """What gatherers found: facts per subject id, and day counts per subject, series and day (``YYYY-MM-DD``)."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)
    series: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def add(self, subject_id: str, fact: Fact) -> None:
        self.facts.setdefault(subject_id, []).append(fact)

    def count(self, subject_id: str, series: str, day: str | None, n: int = 1) -> None:
        if day is None:
            return
        days = self.series.setdefault(subject_id, {}).setdefault(series, {})
        days[day] = days.get(day, 0) + n

    def merge(self, other: Findings) -> None:
        for subject_id, facts in other.facts.items():
            self.facts.setdefault(subject_id, []).extend(facts)
        for subject_id, series in other.series.items():
            for name, days in series.items():
                for day, n in days.items():
                    self.count(subject_id, name, day, n)
