"""JSON request bodies read with a size limit and parsed with a nesting limit.

FastAPI reads a declared body whole, however large, and parses it with the
standard ``json`` module, which recurses once per nesting level. py-evm (the
embedded chain) raises the interpreter's recursion limit to 100,000, so a body
of 100,000 ``[`` overflows the C stack before any RecursionError: the whole
server process dies with a segmentation fault. Here the body is refused past
:data:`MAX_JSON_BODY_BYTES` (413), and parsed by orjson, which refuses
anything nested deeper than 1,024 levels with a ``JSONDecodeError`` (FastAPI
answers it as a 422 naming the position).

Routers whose routes take a JSON body use ``route_class=BoundedJsonRoute``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

MAX_JSON_BODY_BYTES = 1024 * 1024
"""Largest JSON body these routes read (signed whitelist changes are under 2 KB)."""


class BoundedJsonRequest(Request):
    """A request whose ``body()`` stops at :data:`MAX_JSON_BODY_BYTES` and whose ``json()`` is orjson's."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_JSON_BODY_BYTES:
                raise _too_large(f"{int(declared):,} bytes is")
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_JSON_BODY_BYTES:
                    raise _too_large("it is")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


def _too_large(what: str) -> HTTPException:
    # An HTTPException, not a LedgerError: FastAPI's body reading turns any other exception into a 400.
    return HTTPException(413, f"body: {what} over the {MAX_JSON_BODY_BYTES:,}-byte limit")


class BoundedJsonRoute(APIRoute):
    """An APIRoute that hands its endpoint a :class:`BoundedJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_safely(request: Request) -> Response:
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return read_safely
