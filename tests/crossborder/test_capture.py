"""Export declarations and customs clearances at capture: claims judged against the
whitelist as it stood at the event's time, refusals naming trader, scope and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.client import ClientError
from ledger.crossborder import (
    CLAIMS,
    TRADER,
    crossborder_document,
    customs_clearance,
    export_declaration,
)
from ledger.epcis.build import gtin, item
from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING, BTT_CUSTOMS_DECLARATION
from ledger.records.models import Record
from tests.crossborder.conftest import TRADERS

TEA = gtin("0952200000010")


def log_size(node) -> int:
    with node.ledger.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Record)).scalar_one()


def declaration(node, trader: str, *, claims=("EXPEDITED_CLEARANCE",), serial: str = "1", when=None, **extra):
    return export_declaration(declaration=f"5316202600000{serial.zfill(5)}", trader=trader, claims=list(claims),
                              epcs=[item(TEA, f"EX-{serial}")], exporter=node.gln("exporter"),
                              when=when or node.after_chain(), **extra)


def refused(node, party: str, events) -> ClientError:
    before = log_size(node)
    with pytest.raises(ClientError) as info:
        node.client(party).capture(crossborder_document(events))
    assert log_size(node) == before, "nothing is stored"
    return info.value


def test_the_convention_is_valid_epcis() -> None:
    event = export_declaration(declaration="531620260000000001", trader=TRADERS["aeo"], claims=["EXPEDITED_CLEARANCE"],
                               epcs=[item(TEA, "X")], exporter="9522000000015")
    assert event["bizStep"] == "departing" and event[TRADER] == TRADERS["aeo"] and event[CLAIMS] == ["EXPEDITED_CLEARANCE"]
    assert event["bizTransactionList"] == [{"type": BTT_CUSTOMS_DECLARATION,
                                            "bizTransaction": "urn:traceledger:customs-declaration:CN:531620260000000001"}]
    cleared = customs_clearance(declaration="urn:x:1", trader=TRADERS["aeo"], cleared_by="9522000000015", epcs=[item(TEA, "X")])
    assert cleared["bizStep"] == BIZ_STEP_CUSTOMS_CLEARING and cleared["tl:clearedBy"] == "https://id.gs1.org/417/9522000000015"
    assert {"tl": "https://traceledger.dev/voc/"} in crossborder_document([event])["@context"]


def test_an_aeo_trader_claiming_expedited_clearance_is_stored(node) -> None:
    result = node.client("exporter").capture(crossborder_document([declaration(node, TRADERS["aeo"], serial="10")]))
    assert result["state"] == "stored" and result["events"][0]["status"] == "stored"


def test_a_revoked_trader_is_refused_naming_trader_scope_and_why(node) -> None:
    error = refused(node, "exporter", [declaration(node, TRADERS["revoked"], serial="11")])
    assert error.status == 403
    reason = error.body["detail"]
    assert "event 0" in reason and TRADERS["revoked"] in reason and "Revoked Trading Ltd" in reason
    assert "EXPEDITED_CLEARANCE" in reason and "revoked" in reason
    assert "smuggling conviction (case 2026-0420)" in reason
    kept = node.http.get(f"/capture/{error.body['captureID']}").json()
    assert kept["state"] == "refused" and "revoked" in kept["reason"]


@pytest.mark.parametrize(("trader", "claims", "why"), [
    ("expired", ["EXPEDITED_CLEARANCE"], "expired: the entry expired at"),
    ("general", ["EXPEDITED_CLEARANCE"], "scope not held: the trader holds OFFSHORE_TRADE, not EXPEDITED_CLEARANCE"),
    ("general", ["OFFSHORE_TRADE", "EXPEDITED_CLEARANCE"], "scope not held"),
    ("dishonest", ["OFFSHORE_TRADE"], "dishonest"),
    ("suspended", ["EXPEDITED_CLEARANCE"], "suspended: the entry was suspended at block"),
    ("unknown", ["EXPEDITED_CLEARANCE"], "unknown: "),
])
def test_each_reason_to_refuse_a_claim(node, trader: str, claims: list[str], why: str) -> None:
    error = refused(node, "exporter", [declaration(node, TRADERS[trader], claims=claims, serial="12")])
    assert error.status == 403 and why in error.body["detail"], error.body
    assert TRADERS[trader] in error.body["detail"] and claims[0] in error.body["detail"]


def test_a_held_scope_is_stored_and_a_bad_event_later_in_the_document_refuses_all(node) -> None:
    ok = declaration(node, TRADERS["general"], claims=["OFFSHORE_TRADE"], serial="13")
    assert node.client("exporter").capture(crossborder_document([ok]))["state"] == "stored"
    error = refused(node, "exporter", [declaration(node, TRADERS["aeo"], serial="14"),
                                       declaration(node, TRADERS["expired"], serial="15")])
    assert error.status == 403 and error.body["detail"].startswith(f"capture {error.body['captureID']} refused: event 1:")


def test_naming_a_trader_without_claims_needs_no_whitelist_entry(node) -> None:
    event = declaration(node, TRADERS["unknown"], claims=(), serial="16")
    assert CLAIMS not in event
    assert node.client("exporter").capture(crossborder_document([event]))["state"] == "stored"


def test_the_claim_is_judged_at_the_event_time(node) -> None:
    """Dated before the revocation, the claim stands; dated after, it is refused."""
    w, code = node.whitelist, TRADERS["past"]
    from tests.whitelist.conftest import content

    w.set_entry(content(code), sender=node.ledger.service_account)
    before = node.at_chain()
    w.revoke(code, "licence withdrawn", sender=node.ledger.service_account)
    node.sync()
    revoked_at = node.chain_time()
    assert int(before.timestamp()) < revoked_at
    stored = node.client("exporter").capture(crossborder_document([declaration(node, code, serial="17", when=before)]))
    assert stored["state"] == "stored"
    error = refused(node, "exporter", [declaration(node, code, serial="18", when=node.after_chain())])
    assert "revoked" in error.body["detail"] and "licence withdrawn" in error.body["detail"]


@pytest.mark.parametrize(("field", "value", "expected"), [
    (TRADER, "91350200I00000200X", "event 0, field tl:trader: character 'I' at position 9 is not allowed"),
    (TRADER, "9135", "event 0, field tl:trader: must be 18 characters, got 4"),
    (TRADER, 913502, "event 0, field tl:trader: expected a string"),
    (CLAIMS, ["FAST_LANE"], "event 0, field tl:claims[0]: unknown scope 'FAST_LANE'"),
    (CLAIMS, "EXPEDITED_CLEARANCE", "event 0, field tl:claims: must be a list"),
])
def test_a_malformed_trader_field_is_a_400_naming_event_and_field(node, field, value, expected) -> None:
    event = declaration(node, TRADERS["aeo"], serial="19")
    event[field] = value
    error = refused(node, "exporter", [event])
    assert error.status == 400 and error.body["detail"].startswith(expected), error.body
    assert error.body["error"] == "InvalidEventError"


def test_claims_without_a_trader_are_a_400(node) -> None:
    event = declaration(node, TRADERS["aeo"], serial="20")
    del event[TRADER]
    error = refused(node, "exporter", [event])
    assert error.status == 400 and error.body["detail"].startswith("event 0, field tl:trader: missing")


def test_full_iri_field_names_are_read_too(node) -> None:
    event = declaration(node, TRADERS["revoked"], serial="21")
    event["https://traceledger.dev/voc/trader"] = event.pop(TRADER)
    event["https://traceledger.dev/voc/claims"] = event.pop(CLAIMS)
    assert "revoked" in refused(node, "exporter", [event]).body["detail"]


def clearance(node, trader: str, *, by: str = "customs", serial: str = "30", **extra):
    return customs_clearance(declaration=f"53162026000000{serial.zfill(4)}", trader=trader, cleared_by=node.gln(by),
                             epcs=[item(TEA, f"EX-{serial}")], when=node.after_chain(), **extra)


def test_customs_clearance_by_customs_is_stored(node) -> None:
    event = clearance(node, TRADERS["aeo"], claims=["EXPEDITED_CLEARANCE"])
    result = node.client("customs").capture(crossborder_document([event]))
    assert result["state"] == "stored"


def test_customs_clearance_by_a_non_customs_participant_is_refused(node) -> None:
    error = refused(node, "carrier", [clearance(node, TRADERS["aeo"], serial="31")])
    assert error.status == 403 and "customs clearance" in error.body["detail"] and "needs CUSTOMS" in error.body["detail"]
    assert "DISTRIBUTOR" in error.body["detail"]


def test_customs_clears_only_in_its_own_name(node) -> None:
    error = refused(node, "customs2", [clearance(node, TRADERS["aeo"], by="customs", serial="32")])
    assert error.status == 403 and "tl:clearedBy" in error.body["detail"] and node.gln("customs") in error.body["detail"]
    bad = clearance(node, TRADERS["aeo"], serial="33")
    bad["tl:clearedBy"] = "https://example.com/customs"
    error = refused(node, "customs", [bad])
    assert error.status == 400 and error.body["detail"].startswith("event 0, field tl:clearedBy")


def test_a_clearance_claiming_a_scope_the_trader_lacks_is_refused_even_for_customs(node) -> None:
    error = refused(node, "customs", [clearance(node, TRADERS["general"], serial="34", claims=["EXPEDITED_CLEARANCE"])])
    assert error.status == 403 and "scope not held" in error.body["detail"]


def test_an_event_long_before_the_listing_is_unknown_with_a_hint(node) -> None:
    event = declaration(node, TRADERS["aeo"], serial="35", when=node.after_chain() - timedelta(days=400))
    detail = refused(node, "exporter", [event]).body["detail"]
    assert "unknown" in detail and "first listed at block" in detail
