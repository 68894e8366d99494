"""A JSON-RPC endpoint in front of a real node that misbehaves on demand.

Modes:

- ``forward``: a transparent proxy to the node;
- ``not-json``: an HTML page with status 200, as a misrouted load balancer answers;
- ``not-json-rpc``: JSON that is no JSON-RPC response (``{"status": "ok"}``);
- ``wrong-result``: a JSON-RPC response to the request whose result is not
  what the method returns (a quantity that is not hex);
- ``silent``: accepts the request and never answers (a hung node);
- ``swallow-transactions``: forwards everything but ``eth_sendRawTransaction``,
  which it acknowledges with the transaction's hash without passing it on, so
  the receipt never comes (a node that drops what it is sent).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from eth_utils import keccak

MODES = ("forward", "not-json", "not-json-rpc", "wrong-result", "silent", "swallow-transactions")
GARBAGE_MODES = ("not-json", "not-json-rpc", "wrong-result", "silent")


class FaultyNode:
    def __init__(self, upstream: str, mode: str = "forward") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.upstream = upstream
        self.mode = mode
        self._released = threading.Event()  # wakes the requests held by ``silent`` when the mode changes or at close
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-node", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.mode = mode
        self._released.set()
        self._released = threading.Event()

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, body: bytes) -> tuple[int, bytes] | None:
        """(status, body) for one request in the current mode; None: close without answering."""
        mode = self.mode
        if mode == "silent":
            self._released.wait(60)
            return None
        if mode == "not-json":
            return 200, b"<html><body><h1>Welcome to nginx!</h1></body></html>"
        if mode == "not-json-rpc":
            return 200, b'{"status": "ok"}'
        request: Any = json.loads(body)
        if mode == "wrong-result":
            return 200, json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": "0xnot-a-quantity"}).encode()
        if mode == "swallow-transactions" and request.get("method") == "eth_sendRawTransaction":
            raw = bytes.fromhex(request["params"][0].removeprefix("0x"))
            return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x" + keccak(raw).hex()}).encode()
        try:
            upstream = requests.post(self.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=30)
        except requests.RequestException:
            return None  # the node is down: so is this endpoint
        return upstream.status_code, upstream.content

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = node._answer(body)
                if answer is None:
                    self.close_connection = True
                    return
                status, payload = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if payload[:1] in (b"{", b"[") else "text/html")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (its timeout): nothing to tell it

        return Handler
