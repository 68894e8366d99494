"""Issue 8, item 4: schemathesis against the app's own OpenAPI schema, every operation.

In process (the ASGI app, schemathesis's own client), on a data dir holding
data: the participants and events of the trace scenario (tests/trace), an
anchored checkpoint and a listed trader. Each operation gets generated
requests that fit its schema (positive) and requests that break it
(negative); operations whose path names something (a product, a container, a
trader, a capture, an event, a checkpoint, a record) also get requests
anchored on a real one, so the generated query parameters reach the code
behind the 404. Two checks on every response: no 5xx, and the body conforms
to what the schema declares for its status code.

Deterministic (``derandomize``): a failure reproduces on the next run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from eth_account import Account
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from ledger.capture.models import CaptureJob, EpcisEvent
from ledger.epcis.build import gln
from ledger.participants.service import register_participant
from ledger.whitelist.service import Whitelist
from tests.trace.scenario import PALLET, PARTIES, TOMATO, TOMATO_LOT, Node, key_of, record_scenario
from tests.whitelist.conftest import content, make_data_dir, uscc

pytestmark = pytest.mark.reliability

EXAMPLES = 20
"""Generated requests per operation and generation mode (and per anchored operation)."""
CHECKS = [not_a_server_error, response_schema_conformance]
LISTED_TRADER = uscc(900)


@dataclass
class Served:
    app: FastAPI
    anchors: dict[str, dict[str, str]]  # operation label -> path parameters naming something that exists


def _wait_for_checkpoint(http: TestClient) -> int:
    """The size of the first anchored checkpoint (the anchorer runs every 0.2 s here)."""
    for _ in range(300):
        response = http.get("/v1/checkpoints/latest")
        if response.status_code == 200:
            return response.json()["treeSize"]
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint anchored: {response.text}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Record the data through a TestClient, close it (the embedded chain has one owner at a time), then
    hand schemathesis a fresh app over the same data dir; its lifespan is stopped after the module."""
    settings = make_data_dir(tmp_path_factory.mktemp("schemathesis"))
    settings = settings.model_copy(update={"anchor_enabled": True, "anchor_max_delay": 0.2})
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        keys = {party: Account.create() for party in PARTIES}
        for party, (gln_body, name, roles) in PARTIES.items():
            register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
        record_scenario(Node(http, ledger, keys))
        Whitelist.from_ledger(ledger).set_entry(content(LISTED_TRADER), sender=ledger.service_account)
        size = _wait_for_checkpoint(http)
        with ledger.engine.connect() as connection:
            capture_id = connection.execute(sa.select(CaptureJob.id)).scalars().first()
            event_id = connection.execute(sa.select(EpcisEvent.hash_id)).scalars().first()
    lot_path, pallet_path = key_of(TOMATO_LOT).lstrip("/"), key_of(PALLET).lstrip("/")
    trader = {"uscc": LISTED_TRADER}
    anchors = {
        "GET /01/{path}": {"path": TOMATO},  # the product: its lots and items
        "GET /00/{path}": {"path": pallet_path.removeprefix("00/")},
        "GET /v1/trace/upstream/{path}": {"path": lot_path},
        "GET /v1/trace/downstream/{path}": {"path": lot_path},
        "GET /v1/trace/contents/{path}": {"path": pallet_path},
        "GET /v1/checkpoints/{size}": {"size": str(size)},
        "GET /v1/records/{index}/evidence": {"index": "0"},
        "GET /capture/{capture_id}": {"capture_id": capture_id},
        "GET /events/{event_id}": {"event_id": event_id},
        **{f"GET /v1/traders/{{uscc}}{tail}": trader
           for tail in ("", "/check", "/history", "/changes/typed-data", "/page", "/qr.png", "/qr.svg", "/standing")},
    }
    app = create_app(settings)
    try:
        yield Served(app, anchors)
    finally:
        shutdown_lifespans()


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # by class: 200, 400...
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, variant) -> first failure
    answered: set[str] = field(default_factory=set)  # operations that answered at least one 2xx


def _run(operation: Any, strategy: Any, variant: str, tally: Tally, send: Any) -> None:
    """Draw EXAMPLES cases from ``strategy``, send each with ``send(case)`` and check the answer."""

    @hypothesis.given(case=strategy)
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def exercise(case: Any) -> None:
        tally.cases += 1
        response = send(case)
        tally.statuses[response.status_code // 100 * 100] += 1
        if response.status_code < 300:
            tally.answered.add(operation.label)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as failure:  # schemathesis raises a group of failures; keep the first message
            if isinstance(failure, KeyboardInterrupt):
                raise
            tally.failures.setdefault((operation.label, variant), str(failure)[:3000])

    try:
        exercise()
    except hypothesis.errors.Unsatisfiable:
        pass  # no request can break this operation's schema (e.g. no parameters): nothing to send


def test_no_operation_answers_5xx_or_off_schema(served: Served) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally()
    with get_client(served.app) as client:

        def by_schemathesis(case: Any) -> Any:
            return case.call(session=client)

        def by_raw_path(anchor: dict[str, str]) -> Any:
            # A Digital Link path holds '/', which schemathesis sends as %2F (data, to the resolver): send
            # the anchored path as is, with the generated query and headers.
            def send(case: Any) -> Any:
                path = case.operation.path
                for name, value in anchor.items():
                    path = path.replace(f"{{{name}}}", value)
                return client.request(case.method, path, params=case.query, headers=case.headers)

            return send

        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run(operation, operation.as_strategy(generation_mode=mode), mode.value, tally, by_schemathesis)
            anchor = served.anchors.get(operation.label)
            if anchor is not None:
                send = by_raw_path(anchor) if any("/" in value for value in anchor.values()) else by_schemathesis
                _run(operation, operation.as_strategy(path_parameters=anchor), "anchored", tally, send)
    summary = ", ".join(f"{status // 100}xx: {count}" for status, count in sorted(tally.statuses.items()))
    print(f"\nschemathesis: {tally.cases} cases on {len(operations)} operations ({summary}), "
          f"{len(tally.failures)} failing")
    assert tally.cases >= 10 * len(operations)
    assert served.anchors.keys() - tally.answered == set(), sorted(served.anchors.keys() - tally.answered)
    assert not tally.failures, "\n\n".join(f"{label} [{variant}]:\n{message}"
                                           for (label, variant), message in tally.failures.items())


def test_every_operation_documents_its_error_answers(served: Served) -> None:
    """The schema the check above holds answers to: every operation declares the error body it sends."""
    paths = served.app.openapi()["paths"]
    assert {"/capture", "/events", "/01/{path}", "/v1/traders/{uscc}/changes"} <= paths.keys()
    assert "requestBody" in paths["/capture"]["post"], "the capture body is read by hand, but declared"
    for path, operations in paths.items():
        for method, operation in operations.items():
            error = operation["responses"].get("4XX", {}).get("content", {}).get("application/json", {})
            assert error.get("schema") == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path}"
