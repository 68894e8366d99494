"""Clients that capture signed EPCIS documents back to back, as a busy site does.

A capture the server did not answer (it died, or the connection broke) is
sent again, the very same signed body, until it is answered: the server
stores a capture once and answers a retry of a stored one from the first
result. So "acknowledged" here means what it means to a real client: a 202
with a capture ID and, per event, its log index.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
from eth_account.signers.local import LocalAccount

from ledger.client import ClientError, LedgerClient, epcis_document
from ledger.epcis.build import item, object_event

NO_ANSWER_LIMIT = 120.0  # seconds one capture may go unanswered before it counts as an error


@dataclass
class CaptureBook:
    """What the clients were told, shared by their threads (under ``lock``)."""

    acknowledged: dict[str, int] = field(default_factory=dict)  # event hash ID -> log index in the 202
    captures: dict[str, int] = field(default_factory=dict)  # capture ID -> its capture record's log index
    acked_at: list[float] = field(default_factory=list)  # time.monotonic() of each acknowledgement
    latencies: list[float] = field(default_factory=list)  # seconds per answered POST /capture
    items: list[str] = field(default_factory=list)  # Digital Link paths of the acknowledged items, for lookups
    resent: int = 0  # captures sent again because the first try got no answer
    not_fresh: int = 0  # events a 202 reported as duplicates (each event here is new: must stay 0)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class CaptureLoad:
    """``clients`` threads capturing documents of ``events_per_capture`` new
    commissioning events each, signed by ``account`` (a PRODUCER's key) at
    ``location``, until :meth:`stop`. ``tag`` prefixes the items' serials to
    keep them unique in one index; keep it short (a serial has at most 20
    characters)."""

    def __init__(self, url: str, account: LocalAccount, *, product: str, location: str, tag: str,
                 clients: int = 2, events_per_capture: int = 10) -> None:
        self.url = url
        self.account = account
        self.product = product
        self.location = location
        self.tag = tag
        self.clients = clients
        self.events_per_capture = events_per_capture
        self.book = CaptureBook()
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> CaptureLoad:
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), name=f"capture-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, *, abandon: bool = False) -> CaptureBook:
        """Stop after each client's capture in flight is answered (or, with
        ``abandon``, at its next failed try: the test failed and the server
        may be down); return the book."""
        if abandon:
            self._abandon.set()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=NO_ANSWER_LIMIT + 30)
        return self.book

    def _client(self, number: int) -> None:
        with LedgerClient(self.url, self.account, timeout=30.0) as client:
            sequence = 0
            while not self._stop.is_set():
                serials = [f"{self.tag}{number}.{sequence}.{i}" for i in range(self.events_per_capture)]
                events = [
                    object_event(epcs=[item(self.product, serial)], action="ADD", biz_step="commissioning",
                                 disposition="active", location=self.location)
                    for serial in serials
                ]
                sequence += 1
                if not self._capture_until_answered(client, epcis_document(events)):
                    return
                with self.book.lock:
                    self.book.items.extend(f"/01/{self.product}/21/{serial}" for serial in serials)

    def _capture_until_answered(self, client: LedgerClient, document: dict) -> bool:
        """Sign once, send until answered; False after an error (recorded)."""
        first_try = time.monotonic()
        signed = None
        sends = 0
        while True:
            try:
                signed = signed or client.sign(document)  # fetches the signing domain once per client
                sends += 1
                sent = time.perf_counter()
                result = client.submit(signed)
                latency = time.perf_counter() - sent
                break
            except httpx.TransportError as exc:
                if self._abandon.is_set():
                    return False
                if time.monotonic() - first_try > NO_ANSWER_LIMIT:
                    with self.book.lock:
                        self.book.errors.append(f"no answer for {NO_ANSWER_LIMIT:.0f}s: {exc!r}")
                    return False
                time.sleep(0.05)
            except ClientError as exc:
                with self.book.lock:
                    self.book.errors.append(str(exc))
                return False
        with self.book.lock:
            self.book.resent += sends > 1
            self.book.latencies.append(latency)
            self.book.captures[result["captureID"]] = result["captureRecordIndex"]
            self.book.acked_at.append(time.monotonic())
            for event in result["events"]:
                self.book.acknowledged[event["eventHashID"]] = event["logIndex"]
                self.book.not_fresh += event["status"] != "stored"
        return True
