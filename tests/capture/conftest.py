"""A served ledger with one participant per role, each with its own key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.nodes import ServedNode, node_settings, served_node

PARTIES = {
    "farm": ("952100000001", "Green Valley Farm", ["PRODUCER"]),
    "plant": ("952100000002", "Riverside Foods", ["PROCESSOR"]),
    "carrier": ("952100000003", "Swift Logistics", ["DISTRIBUTOR"]),
    "pharma": ("952100000004", "Lab Pharma", ["MANUFACTURER"]),
    "pharmacy": ("952100000005", "City Hospital Pharmacy", ["DISPENSER"]),
    "regulator": ("952100000006", "Food and Drug Authority", ["REGULATOR"]),
    "customs": ("952100000007", "Harbour Customs", ["CUSTOMS"]),
}


@pytest.fixture
def node(tmp_path) -> Iterator[ServedNode]:
    with served_node(node_settings(tmp_path), PARTIES, node_type=ServedNode) as served:
        yield served
