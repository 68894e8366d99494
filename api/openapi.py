"""Write the API's OpenAPI schema to ``docs/openapi.json`` (the reference the README links to).

    python -m api.openapi [PATH]

A test checks that the committed file is what the code generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from ledger.config import Settings

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def openapi_text() -> str:
    """The schema as committed: sorted keys, two-space indent, a final newline."""
    schema = create_app(Settings()).openapi()  # the schema needs no data dir: nothing is opened
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    path.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
