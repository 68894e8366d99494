"""Current state, upstream traces, downstream impact and rebuild, on the recorded scenario."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import Session

from ledger.epcis.build import gtin, item, lot, object_event, transformation_event
from ledger.trace.indexing import rebuild_provenance
from ledger.trace.models import TraceEdge, TraceState, TraceTransformationPart
from ledger.trace.queries import contents_at, current_state, downstream_trace, product_listing, upstream_trace
from tests.trace.scenario import (
    CASE,
    DRUG,
    DRUG_LOT,
    PACKS,
    PALLET,
    SAUCE_LOT,
    SAUCE_PALLET,
    TOMATO_LOT,
    key_of,
    node_capture,
)


def indices(trace: dict) -> list[int]:
    return [event["logIndex"] for event in trace["events"]]


def test_upstream_of_a_pack_includes_its_containers_events_only_while_it_was_inside(node) -> None:
    with Session(node.ledger.engine) as session:
        trace = upstream_trace(session, key_of(PACKS[0]))
    got = indices(trace)
    expected_steps = ["packs commissioned", "case packed", "pallet packed", "pallet shipped", "pallet received",
                      "case unpacked", "pack dispensed"]
    assert got == [node.indices[step] for step in expected_steps]
    assert node.indices["pallet returned"] not in got, "the pallet left after the pack was unpacked"
    by_index = {event["logIndex"]: event for event in trace["events"]}
    shipped = by_index[node.indices["pallet shipped"]]
    assert shipped["relation"] == "container" and shipped["appliesTo"] == [key_of(PALLET)]
    assert shipped["event"]["bizStep"] == "shipping" and shipped["event"]["tl:logIndex"] == shipped["logIndex"]
    assert shipped["record"]["kind"] == "epcis.event"
    relations = {n["key"]: n["relation"] for n in trace["nodes"]}
    assert relations == {key_of(PACKS[0]): "self", key_of(CASE): "container", key_of(PALLET): "container",
                         key_of(DRUG_LOT): "lot"}
    assert not trace["truncated"]


def test_current_state_of_the_dispensed_pack_says_dispensed_at_the_pharmacy(node) -> None:
    with Session(node.ledger.engine) as session:
        state = current_state(session, PACKS[0])
        other = current_state(session, key_of(PACKS[1]))
        pallet = current_state(session, PALLET)
        case = current_state(session, CASE)
    assert state["disposition"] == "dispensed" and state["bizStep"] == "dispensing"
    assert state["location"] == node.location("pharmacy") and state["locationName"] == "City Hospital Pharmacy"
    assert state["participantId"] == node.participant_id("pharmacy")
    assert state["participant"]["name"] == "City Hospital Pharmacy"
    assert state["lastLogIndex"] == node.indices["pack dispensed"] and state["terminal"] is True
    # The other packs were last touched by the unpacking, after the pallet (with them inside) was received.
    assert other["bizStep"] == "unpacking" and other["disposition"] == "in_progress" and other["via"] is None
    # The returned pallet took its case along, but not the packs.
    assert pallet["disposition"] == "in_transit" and case["via"] == key_of(PALLET)
    assert case["lastLogIndex"] == node.indices["pallet returned"]


def test_container_events_update_the_state_of_what_is_inside(node) -> None:
    with Session(node.ledger.engine) as session:
        trace = upstream_trace(session, key_of(PACKS[2]))
    received = next(e for e in trace["events"] if e["logIndex"] == node.indices["pallet received"])
    assert received["relation"] == "container"
    with Session(node.ledger.engine) as session:
        sauce = current_state(session, SAUCE_LOT)
    # The sauce lot was received at the shop on its pallet, then unpacked there.
    assert sauce["location"] == node.location("shop") and sauce["participantId"] == node.participant_id("shop")
    assert sauce["disposition"] == "sellable_accessible"


def test_upstream_of_the_sauce_includes_the_tomato_harvest(node) -> None:
    with Session(node.ledger.engine) as session:
        trace = upstream_trace(session, key_of(SAUCE_LOT))
    by_index = {event["logIndex"]: event for event in trace["events"]}
    harvest = by_index[node.indices["harvest"]]
    assert harvest["relation"] == "input" and harvest["appliesTo"] == [key_of(TOMATO_LOT)]
    assert harvest["event"]["bizStep"] == "commissioning"
    for step in ("tomato shipped", "tomato received", "sauce made", "sauce palletised", "sauce shipped", "sauce received"):
        assert node.indices[step] in by_index, step
    assert by_index[node.indices["sauce shipped"]]["relation"] == "container"
    assert {n["key"]: n["relation"] for n in trace["nodes"]}[key_of(TOMATO_LOT)] == "input"


def test_downstream_of_the_tomato_lot_lists_the_sauce_where_it_is_and_who_holds_it(node) -> None:
    with Session(node.ledger.engine) as session:
        report = downstream_trace(session, key_of(TOMATO_LOT))
    affected = {entry["key"]: entry for entry in report["affected"]}
    assert set(affected) == {key_of(TOMATO_LOT), key_of(SAUCE_LOT)}
    sauce = affected[key_of(SAUCE_LOT)]
    assert sauce["relation"] == "output"
    assert sauce["state"]["location"] == node.location("shop")
    assert sauce["state"]["participant"]["name"] == "FreshMart Central"
    holders = {(h["participantId"], h["location"]): h for h in report["holders"]}
    shop = holders[(node.participant_id("shop"), node.location("shop"))]
    assert shop["keys"] == [key_of(SAUCE_LOT)] and shop["locationName"] == "FreshMart Central"
    assert [c["key"] for c in report["containers"]] == [key_of(SAUCE_PALLET)]
    assert report["containers"][0]["containsNow"] is False
    places = [place["location"] for place in report["places"]]
    assert places == [node.location("farm"), node.location("plant"), node.location("shop")]
    assert node.indices["sauce received"] in indices(report)


def test_downstream_of_the_drug_lot_lists_its_packs_and_who_holds_them(node) -> None:
    with Session(node.ledger.engine) as session:
        report = downstream_trace(session, key_of(DRUG_LOT))
    affected = {entry["key"]: entry for entry in report["affected"]}
    assert set(affected) == {key_of(DRUG_LOT), *map(key_of, PACKS)}
    assert affected[key_of(PACKS[0])]["state"]["terminal"] is True
    pharmacy = next(h for h in report["holders"] if h["participantId"] == node.participant_id("pharmacy"))
    assert sorted(pharmacy["keys"]) == sorted(map(key_of, PACKS))
    assert pharmacy["inSupplyChain"] == 2 and pharmacy["dispositions"] == {"dispensed": 1, "in_progress": 2}
    assert {c["key"] for c in report["containers"]} == {key_of(CASE), key_of(PALLET)}
    # The pallet's return trip happened after the packs left it: not a place the drug lot reached.
    assert node.indices["pallet returned"] not in indices(report)


def test_what_was_inside_the_pallet_when_it_was_shipped(node) -> None:
    with Session(node.ledger.engine) as session:
        shipped = contents_at(session, key_of(PALLET), log_index=node.indices["pallet shipped"])
        returned = contents_at(session, key_of(PALLET), log_index=node.indices["pallet returned"])
        now = contents_at(session, key_of(PALLET))
    assert {c["key"] for c in shipped["contents"]} == {key_of(CASE), *map(key_of, PACKS)}
    assert {c["key"] for c in returned["contents"]} == {key_of(CASE)}
    assert [c["key"] for c in now["contents"]] == [key_of(CASE)]


def test_product_listing(node) -> None:
    with Session(node.ledger.engine) as session:
        listing = product_listing(session, f"/01/{DRUG}")
    assert [entry["key"] for entry in listing["items"]][:3] == [key_of(p) for p in PACKS]
    assert [entry["key"] for entry in listing["lots"]] == [key_of(DRUG_LOT)]


def test_truncation_is_reported(node) -> None:
    with Session(node.ledger.engine) as session:
        small = upstream_trace(session, key_of(PACKS[0]), max_nodes=2)
        few_events = upstream_trace(session, key_of(PACKS[0]), max_events=3)
        few_edges = downstream_trace(session, key_of(DRUG_LOT), max_edges=2)
    assert small["truncated"] and "more than 2 nodes" in small["truncation"][0]
    assert len(small["nodes"]) == 2
    assert few_events["truncated"] and len(few_events["events"]) == 3
    assert few_edges["truncated"] and len(few_edges["edges"]) == 2


def test_a_transformation_over_several_events_links_every_input_to_every_output(node) -> None:
    juice, pulp, apples, pears = (gtin("0952100000041"), gtin("0952100000058"), gtin("0952100000065"),
                                  gtin("0952100000072"))
    plant = node.gln("plant")
    tid = "urn:uuid:9d6b3b4e-4d2f-4b7e-9d0c-1c2f3a4b5c6d"
    node_capture(node, "plant", [
        transformation_event(inputs=[(lot(apples, "A1"), 10, "KGM")], outputs=[(lot(juice, "J1"), 5, "LTR")],
                             location=plant, when=node.when(), transformationID=tid),
        transformation_event(inputs=[(lot(pears, "P1"), 10, "KGM")], outputs=[(lot(pulp, "U1"), 2, "KGM")],
                             location=plant, when=node.when(), transformationID=tid),
    ])
    with Session(node.ledger.engine) as session:
        from_apples = downstream_trace(session, lot(apples, "A1"))
        into_juice = upstream_trace(session, lot(juice, "J1"))
    assert {a["key"] for a in from_apples["affected"]} == {key_of(lot(apples, "A1")), key_of(lot(juice, "J1")),
                                                          key_of(lot(pulp, "U1"))}
    assert {n["key"] for n in into_juice["nodes"] if n["relation"] == "input"} == {key_of(lot(apples, "A1")),
                                                                                 key_of(lot(pears, "P1"))}


def test_a_late_event_does_not_roll_the_current_state_back(node) -> None:
    serial = item(DRUG, "LATE-1")
    pharma = node.gln("pharma")
    first, second = node.when(), node.when()
    node_capture(node, "pharma", [object_event(epcs=[serial], action="ADD", biz_step="commissioning",
                                               disposition="active", location=pharma, when=first)])
    node_capture(node, "pharma", [object_event(epcs=[serial], biz_step="shipping", disposition="in_transit",
                                               location=pharma, when=second)])
    node_capture(node, "pharma", [object_event(epcs=[serial], biz_step="inspecting", disposition="damaged",
                                               location=pharma, when=first)])  # captured last, happened earlier
    with Session(node.ledger.engine) as session:
        state = current_state(session, serial)
        trace = upstream_trace(session, serial)
    assert state["disposition"] == "in_transit" and state["bizStep"] == "shipping"
    assert [e["event"]["bizStep"] for e in trace["events"]] == ["commissioning", "inspecting", "shipping"]


def test_unknown_key_is_not_found(node) -> None:
    from ledger.errors import NotFoundError

    with Session(node.ledger.engine) as session:
        for query in (upstream_trace, downstream_trace):
            try:
                query(session, item(DRUG, "NOPE"))
            except NotFoundError as exc:
                assert f"no events recorded for /01/{DRUG}/21/NOPE" in str(exc)
            else:
                raise AssertionError("expected NotFoundError")


def test_repacking_moves_an_item_and_a_delete_without_parent_empties_it_out(node) -> None:
    from ledger.epcis.build import aggregation_event, sscc

    serial = item(DRUG, "MOVE-1")
    first_case, second_case = sscc("09521000000000301"), sscc("09521000000000302")
    pharma = node.gln("pharma")
    node_capture(node, "pharma", [
        object_event(epcs=[serial], action="ADD", biz_step="commissioning", disposition="active", location=pharma,
                     when=node.when()),
        aggregation_event(parent=first_case, children=[serial], location=pharma, when=node.when()),
        aggregation_event(parent=second_case, children=[serial], location=pharma, when=node.when()),  # no unpacking first
    ])
    with Session(node.ledger.engine) as session:
        assert contents_at(session, first_case)["contents"] == []
        assert [c["key"] for c in contents_at(session, second_case)["contents"]] == [key_of(serial)]
    # On a pallet and off again: the unpacking names only the pallet, yet belongs to the item's history.
    pallet = sscc("09521000000000303")
    result = node_capture(node, "pharma", [
        aggregation_event(parent=pallet, children=[second_case], location=pharma, when=node.when()),
        aggregation_event(parent=pallet, children=[], action="DELETE", biz_step="unpacking", location=pharma,
                          when=node.when()),
        object_event(epcs=[pallet], biz_step="shipping", disposition="in_transit", location=pharma, when=node.when()),
    ])
    packed, unpacked, shipped_empty = (e["logIndex"] for e in result["events"])
    with Session(node.ledger.engine) as session:
        history = [e["logIndex"] for e in upstream_trace(session, serial)["events"]]
        assert packed in history and unpacked in history and shipped_empty not in history
        assert contents_at(session, pallet, log_index=unpacked)["contents"][0]["key"] == key_of(second_case)
        assert contents_at(session, pallet, log_index=shipped_empty)["contents"] == []
    delete = aggregation_event(parent=second_case, children=[serial], action="DELETE", biz_step="unpacking",
                               location=pharma, when=node.when())
    del delete["parentID"]
    node_capture(node, "pharma", [delete])
    with Session(node.ledger.engine) as session:
        assert contents_at(session, second_case)["contents"] == []
        windows = {n["key"]: n["windows"] for n in upstream_trace(session, serial)["nodes"] if n["relation"] == "container"}
    assert set(windows) == {key_of(first_case), key_of(second_case), key_of(pallet)}
    assert all(w["to"] is not None for ws in windows.values() for w in ws)


def _dump(engine) -> dict[str, list[tuple]]:
    tables = (TraceState.__table__, TraceEdge.__table__, TraceTransformationPart.__table__)
    with engine.connect() as conn:
        return {table.name: sorted(map(tuple, conn.execute(sa.select(table)).all())) for table in tables}


def test_rebuild_from_the_log_equals_incremental_indexing(node) -> None:
    # Last in the module: every case above (moves, late events, multi-event transformations) is replayed.
    before = _dump(node.ledger.engine)
    assert before["trace_state"] and before["trace_edge"] and before["trace_transformation_part"]
    replayed = rebuild_provenance(node.ledger.engine, batch_size=3)  # batches cut differently from the captures
    assert replayed >= 20
    assert _dump(node.ledger.engine) == before


def test_time_stamps_are_stored_as_sqlalchemy_stores_them(node) -> None:
    """Trace windows are compared in SQL with epcis_event.event_time: both must be stored alike."""
    with node.ledger.engine.connect() as conn:
        stored = {
            table: conn.exec_driver_sql(f"SELECT {column} FROM {table} LIMIT 1").scalar()
            for table, column in (("epcis_event", "event_time"), ("trace_state", "last_time"),
                                  ("trace_edge", "start_time"))
        }
    assert len({type(value) for value in stored.values()}) == 1, stored
    if isinstance(stored["epcis_event"], str):  # SQLite: fixed-width text, compared as text
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", value) for value in stored.values()), stored
