"""A trader's standing at each step of a trace, rebuilt from the mirror's history."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from ledger.crossborder import STANDING, annotate_events, crossborder_document, export_declaration, trader_standing
from ledger.crossborder.check import claim_refusal
from ledger.epcis.build import gtin, item, object_event
from tests.crossborder.conftest import TRADERS
from tests.whitelist.conftest import content

SILK = gtin("0952200000027")


def served(node, result) -> list[dict]:
    from urllib.parse import quote

    return [node.http.get("/events/" + quote(e["eventHashID"], safe="")).json() for e in result["events"]]


def test_annotate_events_shows_the_standing_at_each_event_time(node) -> None:
    code, w, sender = TRADERS["later"], node.whitelist, node.ledger.service_account
    w.set_entry(content(code), sender=sender)
    node.sync()
    first = export_declaration(declaration="531620260000000701", trader=code, claims=["EXPEDITED_CLEARANCE"],
                               epcs=[item(SILK, "1")], when=node.at_chain())
    one = node.client("exporter").capture(crossborder_document([first]))
    w.revoke(code, "false declarations", sender=sender)
    node.sync()
    second = export_declaration(declaration="531620260000000702", trader=code, epcs=[item(SILK, "1")],
                                biz_step="shipping", when=node.after_chain())
    two = node.client("exporter").capture(crossborder_document([second]))
    plain = node.client("exporter").capture(crossborder_document(
        [object_event(epcs=[item(SILK, "1")], biz_step="receiving", when=node.after_chain())]))

    events = served(node, one) + served(node, two) + served(node, plain)
    with Session(node.ledger.engine) as session:
        annotated = annotate_events(session, events)
    assert [STANDING in e for e in events] == [False, False, False], "the input is not modified"
    before, after, untouched = (e.get(STANDING) for e in annotated)
    assert before["status"] == "active" and before["level"] == "ADVANCED_CERTIFIED"
    assert before["scopes"] == ["OFFSHORE_TRADE", "EXPEDITED_CLEARANCE"] and before["since"]["change"] == "listed"
    assert before["claims"] == {"scopes": ["EXPEDITED_CLEARANCE"], "verdict": "allowed", "allowed": True}
    assert after["status"] == "revoked" and after["statusReason"] == "false declarations"
    assert after["since"]["change"] == "revoked" and after["since"]["blockNumber"] > before["since"]["blockNumber"]
    assert "claims" not in after
    assert untouched is None
    assert after["contract"] == node.ledger.manifest.contracts["TraderWhitelist"] and after["mirrorBlock"]

    # the same through the route, at each event's time
    for event, status in ((first, "active"), (second, "revoked")):
        body = node.http.get(f"/v1/traders/{code}/standing", params={"at": event["eventTime"]}).json()
        assert body["status"] == status and body["mirrorSynced"] is True, body


def test_trader_standing_over_time(node) -> None:
    code = TRADERS["aeo"]
    with Session(node.ledger.engine) as session:
        now = trader_standing(session, code, node.after_chain())
        long_ago = trader_standing(session, code, node.after_chain() - timedelta(days=3650))
        expired = trader_standing(session, TRADERS["expired"], node.after_chain())
        dishonest = trader_standing(session, TRADERS["dishonest"], node.after_chain())
    assert now["status"] == "active" and now["name"] == "Xiamen Harbour <Trading> & Co."
    assert long_ago["status"] == "unknown" and long_ago["level"] is None and long_ago["firstListed"]["blockNumber"]
    assert expired["status"] == "expired" and dishonest["level"] == "DISHONEST" and dishonest["scopes"] == []


def test_the_standing_route(node) -> None:
    unknown = node.http.get(f"/v1/traders/{TRADERS['unknown']}/standing").json()
    assert unknown["status"] == "unknown" and unknown["version"] == 0
    suspended = node.http.get(f"/v1/traders/{TRADERS['suspended']}/standing").json()
    assert suspended["status"] == "suspended" and suspended["statusReason"] == "under investigation"
    bad = node.http.get("/v1/traders/91350200I76049653A/standing")
    assert bad.status_code == 400 and "position 9" in bad.json()["detail"]
    assert node.http.get(f"/v1/traders/{TRADERS['aeo']}/standing", params={"at": "2026-13-45"}).status_code == 400


def test_the_capture_check_needs_only_the_index(node) -> None:
    """No chain access: the check reads the mirror through the capture's session."""
    event = export_declaration(declaration="531620260000000801", trader=TRADERS["revoked"], claims=["OFFSHORE_TRADE"],
                               epcs=[item(SILK, "2")], when=node.after_chain())
    with Session(node.ledger.engine) as session:
        reason = claim_refusal(session, None, [event])
        assert reason is not None and "revoked" in reason and "whitelist as of block" in reason
        assert claim_refusal(session, None, [object_event(epcs=[item(SILK, "2")], biz_step="shipping")]) is None
