"""The committed API reference (docs/openapi.json) is the schema the code serves."""

from __future__ import annotations

from api.openapi import DEFAULT_PATH, openapi_text


def test_the_committed_openapi_reference_is_fresh() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is stale: run `python -m api.openapi`")
