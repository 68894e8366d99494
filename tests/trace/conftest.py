"""A served ledger with the trace router and the recorded scenario (tests/trace/scenario.py), one per module.

Every test runs on SQLite and on PostgreSQL (skipped with the reason when unreachable).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api import trace as trace_api
from api.app import create_app
from tests.nodes import ServedNode, node_settings, served_node
from tests.trace.scenario import PARTIES, Node, record_scenario


def mount_trace_router(app) -> None:
    """Mount the trace router unless the app already has it."""
    if not any(getattr(route, "endpoint", None) is trace_api.resolve_gtin for route in app.routes):
        app.include_router(trace_api.router)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite in the data dir), or a new PostgreSQL database for the module, dropped afterwards."""
    if request.param == "sqlite":
        yield None
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"tl_trace_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def node(tmp_path_factory, database_url: str | None) -> Iterator[Node]:
    settings = node_settings(tmp_path_factory.mktemp("trace"), database_url=database_url)
    app = create_app(settings)
    mount_trace_router(app)
    with served_node(settings, PARTIES, node_type=ServedNode, app=app) as served:
        node = Node(served.http, served.ledger, served.keys)  # the scenario's node: it also counts steps and minutes
        record_scenario(node)
        yield node
