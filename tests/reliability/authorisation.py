"""The authorisation matrix (issue 8, item 5): every write, who may make it, in one table.

Rows (:data:`WRITES`) are the writes: each kind of ``POST /capture`` (one per
rule of the role policy), each relayed whitelist change
(``POST /v1/traders/{uscc}/changes``) and every external function of every
contract that changes state. Columns (:data:`ACTORS`) are who tries them: a
participant holding that single role, for each role; the operator (the key
``traceledger init`` makes: the registry's governor, holding ADMIN and ANCHOR);
an unknown key; a suspended participant and a revoked key, both holding every
role, so that nothing but their state can refuse them.

This module is the only statement of who may do what. The capture rows do not
restate the role policy: :func:`capture` derives them from
``ledger.capture.policy.RULES``, the table capture enforces. Each row also
says how to try it, as a call on a *world* (built by
``test_authorisation_matrix.py``): ``args`` gives a contract function's
arguments, ``attempt`` sends an HTTP request as the actor. A row is one line;
``consumes`` names the prepared target (``world.target(kind)``) that a
successful attempt uses up, so the next actor gets a fresh one.

:func:`matrix_markdown` renders the table printed in the README between
``<!-- authorisation-matrix:start -->`` and ``<!-- authorisation-matrix:end -->``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from ledger.capture.policy import CUSTOMS_CLEARING, rule_for
from ledger.participants.roles import ROLES
from ledger.whitelist.model import CreditLevel
from ledger.whitelist.service import reason_params, repair_params, set_params
from ledger.whitelist.uscc import to_bytes18

README_START = "<!-- authorisation-matrix:start -->"
README_END = "<!-- authorisation-matrix:end -->"


@dataclass(frozen=True)
class Actor:
    """One column: a key and what the registry says about it."""

    name: str
    roles: frozenset[str]  # participant roles its organisation holds
    registered: bool = True  # the key belongs to a registered participant
    active: bool = True  # the participant is active and the key not revoked
    governor: bool = False  # holds the registry's governance role (OpenZeppelin AccessControl ADMIN_ROLE)


ACTORS: tuple[Actor, ...] = (
    *(Actor(role, frozenset({role})) for role in ROLES),
    Actor("operator", frozenset({"ADMIN", "ANCHOR"}), governor=True),
    Actor("unknown key", frozenset(), registered=False),
    Actor("suspended", frozenset(ROLES), active=False),
    Actor("revoked key", frozenset(ROLES), active=False),
)


@dataclass(frozen=True)
class Allowed:
    """Who may make a write: holders (active) of any of ``roles``, the governor, or anyone."""

    roles: frozenset[str] = frozenset()
    governor: bool = False
    anyone: bool = False
    text: str = ""  # the "who may" column, when the role list alone would not say it

    def permits(self, actor: Actor) -> bool:
        if self.anyone or (self.governor and actor.governor):
            return True
        return actor.registered and actor.active and bool(actor.roles & self.roles)

    def describe(self) -> str:
        return self.text or ", ".join(sorted(self.roles))


def roles(*names: str) -> Allowed:
    return Allowed(frozenset(names))


GOVERNOR = Allowed(governor=True, text="the registry governor (AccessControl ADMIN_ROLE; init gives it to the operator)")
ANYONE = Allowed(anyone=True, text="anyone: it drops only the caller's own governance role (here one it lacks)")
CUSTOMS = roles("CUSTOMS")


def by_policy(sample_event: Mapping[str, Any], *, own_lot: bool = False) -> Allowed:
    """Who the role policy lets capture ``sample_event``; with ``own_lot``, when the actor commissioned
    the goods itself first (a rule with ``producer_of_lot`` then also admits whoever may commission)."""
    rule = rule_for(sample_event)
    if not own_lot or not rule.producer_of_lot:
        return Allowed(rule.roles)
    commissioners = rule_for({"bizStep": "commissioning"}).roles
    return Allowed(rule.roles | commissioners,
                   text=f"{', '.join(sorted(rule.roles))}, or its producer ({', '.join(sorted(commissioners))})")


@dataclass(frozen=True)
class ContractWrite:
    """A state-changing contract function, sent by the actor's key (on the embedded chain)."""

    contract: str
    function: str  # the ABI name: the test calls exactly this function
    allowed: Allowed
    args: Callable[[Any, Actor], tuple[Any, ...]]
    consumes: str | None = None
    case: str = ""

    @property
    def label(self) -> str:
        return f"`{self.contract}.{self.function}`" + (f" {self.case}" if self.case else "")


@dataclass(frozen=True)
class ApiWrite:
    """A write through the API, made with the actor's key (signed capture, or a relayed, signed change)."""

    route: str  # "POST /capture"
    case: str
    allowed: Allowed
    attempt: Callable[[Any, Actor], Any]  # returns the HTTP response
    consumes: str | None = None
    covers: tuple[str, ...] = ()  # contract functions this route reaches ("TraderWhitelist.setEntryWithSig")
    policy_rule: str | None = None  # the role policy rule a capture row exercises

    @property
    def label(self) -> str:
        return f"`{self.route}` {self.case}"


Write = ContractWrite | ApiWrite

ADMIN_ROLE_ID = keccak(text="ADMIN")  # the registry's governance role (also participant role bit 0)
AUDITOR_ROLE_ID = keccak(text="AUDITOR")  # a participant role; as an AccessControl role, granted to nobody
NOTICE = "matrix test notice"
REASON = "matrix test reason"
EVIDENCE = keccak(text="matrix test evidence")
DISPENSED, STOLEN, DESTROYED = 1, 2, 3  # IProductStatus.PackStatus


def capture(case: str, sample_event: Mapping[str, Any], build: Callable[[Any, Actor], Mapping[str, Any]], *,
            own_lot: bool = False) -> ApiWrite:
    """A ``POST /capture`` row: who may is the role policy's answer for ``sample_event``."""
    return ApiWrite("POST /capture", case, by_policy(sample_event, own_lot=own_lot),
                    lambda w, a: w.capture(a, build(w, a)), policy_rule=rule_for(sample_event).name)


def relay(action: str, function: str, params: Callable[[Any], dict[str, Any]], consumes: str | None = None) -> ApiWrite:
    """A change signed by the actor as the officer and relayed by the service (the contract checks the officer)."""
    return ApiWrite("POST /v1/traders/{uscc}/changes", action, CUSTOMS,
                    lambda w, a: w.relay(a, action, params(w)), consumes, covers=(f"TraderWhitelist.{function}",))


WRITES: tuple[Write, ...] = (
    # -- capture, one row per rule of the role policy -----------------------------------------
    capture("commissioning", {"bizStep": "commissioning"}, lambda w, a: w.commissioning(w.new_lot())),
    capture("dispensing", {"bizStep": "dispensing"}, lambda w, a: w.dispensing(w.new_pack())),
    capture("customs clearance", {"bizStep": CUSTOMS_CLEARING}, lambda w, a: w.clearance(w.new_pack())),
    capture("any other bizStep (shipping)", {"bizStep": "shipping"}, lambda w, a: w.shipping(w.new_lot())),
    capture("recall of another producer's lot", {"disposition": "recalled"},
            lambda w, a: w.recall_event(w.target("lot commissioned by another"))),
    capture("recall of a lot it commissioned", {"disposition": "recalled"},
            lambda w, a: w.recall_event(w.lot_commissioned_by(a)), own_lot=True),
    # -- relayed whitelist changes: the actor signs as the officer, the service key sends ---------
    relay("SetEntry", "setEntryWithSig", lambda w: set_params(w.new_entry())),
    relay("SuspendEntry", "suspendEntryWithSig", lambda w: reason_params(w.target("active trader"), REASON),
          "active trader"),
    relay("LiftSuspension", "liftSuspensionWithSig", lambda w: reason_params(w.target("suspended trader"), REASON),
          "suspended trader"),
    relay("RevokeEntry", "revokeEntryWithSig", lambda w: reason_params(w.target("active trader"), REASON),
          "active trader"),
    relay("RepairCredit", "repairCreditWithSig",
          lambda w: repair_params(w.target("dishonest trader"), CreditLevel.GENERAL, EVIDENCE), "dishonest trader"),
    # -- ParticipantRegistry: governance -------------------------------------------------------
    ContractWrite("ParticipantRegistry", "registerParticipant", GOVERNOR, lambda w, a: w.new_participant()),
    ContractWrite("ParticipantRegistry", "suspendParticipant", GOVERNOR,
                  lambda w, a: (w.target("active participant"),), "active participant"),
    ContractWrite("ParticipantRegistry", "reactivateParticipant", GOVERNOR,
                  lambda w, a: (w.target("suspended participant"),), "suspended participant"),
    ContractWrite("ParticipantRegistry", "addKey", GOVERNOR, lambda w, a: (w.target("active participant"), w.new_address())),
    ContractWrite("ParticipantRegistry", "revokeKey", GOVERNOR, lambda w, a: (w.target("registered key"),), "registered key"),
    ContractWrite("ParticipantRegistry", "grantParticipantRole", GOVERNOR,
                  lambda w, a: (w.target("participant without AUDITOR"), AUDITOR_ROLE_ID), "participant without AUDITOR"),
    ContractWrite("ParticipantRegistry", "revokeParticipantRole", GOVERNOR,
                  lambda w, a: (w.target("participant with AUDITOR"), AUDITOR_ROLE_ID), "participant with AUDITOR"),
    ContractWrite("ParticipantRegistry", "grantRole", GOVERNOR, lambda w, a: (ADMIN_ROLE_ID, w.new_address())),
    ContractWrite("ParticipantRegistry", "revokeRole", GOVERNOR,
                  lambda w, a: (ADMIN_ROLE_ID, w.target("governance account")), "governance account"),
    ContractWrite("ParticipantRegistry", "renounceRole", ANYONE, lambda w, a: (AUDITOR_ROLE_ID, w.address_of(a))),
    # -- CheckpointAnchor ---------------------------------------------------------------------------
    ContractWrite("CheckpointAnchor", "anchor", roles("ANCHOR"), lambda w, a: w.target("next checkpoint"),
                  "next checkpoint"),
    # -- TraderWhitelist, sent directly ------------------------------------------------------------
    ContractWrite("TraderWhitelist", "setEntry", CUSTOMS, lambda w, a: (w.new_entry().as_input(),)),
    ContractWrite("TraderWhitelist", "setEntries", CUSTOMS, lambda w, a: ([w.new_entry().as_input()],)),
    ContractWrite("TraderWhitelist", "suspendEntry", CUSTOMS,
                  lambda w, a: (to_bytes18(w.target("active trader")), REASON), "active trader"),
    ContractWrite("TraderWhitelist", "liftSuspension", CUSTOMS,
                  lambda w, a: (to_bytes18(w.target("suspended trader")), REASON), "suspended trader"),
    ContractWrite("TraderWhitelist", "revokeEntry", CUSTOMS,
                  lambda w, a: (to_bytes18(w.target("active trader")), REASON), "active trader"),
    ContractWrite("TraderWhitelist", "repairCredit", CUSTOMS,
                  lambda w, a: (to_bytes18(w.target("dishonest trader")), int(CreditLevel.GENERAL), EVIDENCE),
                  "dishonest trader"),
    # -- ProductStatus -----------------------------------------------------------------------------
    ContractWrite("ProductStatus", "registerLot", roles("PRODUCER", "MANUFACTURER"), lambda w, a: (w.new_key(),)),
    ContractWrite("ProductStatus", "recall", roles("REGULATOR"),
                  lambda w, a: (w.target("lot registered by another"), NOTICE, EVIDENCE), "lot registered by another",
                  case="of a lot another producer registered"),
    ContractWrite("ProductStatus", "recall",
                  Allowed(frozenset({"REGULATOR", "PRODUCER", "MANUFACTURER"}),
                          text="REGULATOR, or the producer that registered it (MANUFACTURER, PRODUCER)"),
                  lambda w, a: (w.lot_registered_by(a), NOTICE, EVIDENCE), case="of a lot it registered"),
    ContractWrite("ProductStatus", "withdrawRecall", roles("REGULATOR"),
                  lambda w, a: (w.target("recalled lot"), NOTICE), "recalled lot"),
    ContractWrite("ProductStatus", "decommission", roles("DISPENSER"),
                  lambda w, a: (w.new_key(), DISPENSED, EVIDENCE), case="as dispensed"),
    ContractWrite("ProductStatus", "decommission", roles("DISPENSER", "DISTRIBUTOR", "MANUFACTURER", "REGULATOR"),
                  lambda w, a: (w.new_key(), STOLEN, EVIDENCE), case="as stolen"),
    ContractWrite("ProductStatus", "decommission", roles("DISPENSER", "DISTRIBUTOR", "MANUFACTURER", "REGULATOR"),
                  lambda w, a: (w.new_key(), DESTROYED, EVIDENCE), case="as destroyed"),
)

READ_ONLY_POSTS: dict[str, str] = {
    "POST /scan": "decodes an uploaded photo of a code; writes nothing",
}
"""POST routes that change no state, so they have no row (every other POST must have one)."""


def covered_functions() -> set[str]:
    """``Contract.function`` names the matrix tries, directly or through an API route."""
    direct = {f"{w.contract}.{w.function}" for w in WRITES if isinstance(w, ContractWrite)}
    return direct | {name for w in WRITES if isinstance(w, ApiWrite) for name in w.covers}


def matrix_markdown() -> str:
    """The README table: one row per write, one column per actor; ✓ allowed, ✗ refused."""
    header = ["write", "who may", *(actor.name for actor in ACTORS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for write in WRITES:
        cells = ["✓" if write.allowed.permits(actor) else "✗" for actor in ACTORS]
        lines.append("| " + " | ".join([write.label, write.allowed.describe(), *cells]) + " |")
    return "\n".join(lines)
