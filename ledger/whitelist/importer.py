"""Bulk load of a customs list: ``traceledger whitelist import FILE.csv``.

The file (UTF-8 CSV with a header) has the columns
``uscc,name,level,scopes,valid_from,valid_until,dossier_sha256``; scopes are
separated by ``|``, ``;`` or spaces; times are unix seconds or ISO 8601.

1. Every row is validated before anything is sent (USCC check character,
   level, scopes, window, hash, no USCC twice); all problems are reported
   together with their line numbers.
2. The import is journalled in the index under the file's SHA-256. A re-run
   of the same file resumes it: transactions recorded as sent are settled
   first (waited for, never sent again).
3. Every row is compared with the chain (``getEntries``, read at one block):
   a trader already holding the same content is skipped, so a re-run after a
   failure writes only what is missing and never a duplicate version. A
   revoked trader is not listed again unless asked (``relist_revoked``): an
   old list must not silently undo a revocation.
4. What remains is packed into as few ``setEntries`` transactions as the
   block gas limit allows (a per-entry gas bound measured on py-evm and anvil;
   90% of the limit per transaction, or 95% of the gas target where the base
   fee is zero: see :func:`gas_budget`), sent a few at a time without
   waiting, and each is recorded before its receipt is awaited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from web3.exceptions import ContractLogicError

from ledger.chain.base import ChainTimeoutError
from ledger.chain.reverts import decode_revert
from ledger.errors import ChainError, LedgerError
from ledger.whitelist.errors import WhitelistInputError
from ledger.whitelist.model import Entry, EntryContent, EntryStatus, parse_level, parse_scopes, parse_time
from ledger.whitelist.models import (
    BatchStatus,
    ImportStatus,
    WhitelistImport,
    WhitelistImportBatch,
    WhitelistTrader,
)
from ledger.whitelist.service import Whitelist
from ledger.whitelist.uscc import UsccError, validate_uscc

COLUMNS = ("uscc", "name", "level", "scopes", "valid_from", "valid_until", "dossier_sha256")

# Gas bounds per entry of ``setEntries`` (measured: a new entry with scopes 89,100 gas, an update
# 35,000, on py-evm and anvil alike), with margin. Unused gas is not charged.
GAS_BASE = 60_000
GAS_NEW_ENTRY = 98_000
GAS_UPDATE_ENTRY = 45_000
GAS_PER_REASON_WORD = 5_000  # re-listing a revoked entry clears its stored reason
BLOCK_SHARE = 0.9
"""Share of the block gas limit one import transaction may claim."""
TARGET_SHARE = 0.95
"""On a zero-base-fee chain: share of the EIP-1559 gas target (half the limit) one transaction may claim."""
MAX_PROBLEMS_SHOWN = 5

_imports = WhitelistImport.__table__
_batches = WhitelistImportBatch.__table__
_traders = WhitelistTrader.__table__


@dataclass(frozen=True)
class ImportRow:
    line: int
    content: EntryContent
    name: str


@dataclass
class ImportReport:
    file: str
    rows: int
    unchanged: int = 0
    written: int = 0
    transactions: int = 0
    gas_used: int = 0
    settled_in_flight: int = 0
    resumed: bool = False
    revoked_skipped: list[str] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None

    def summary(self) -> str:
        parts = [(f"{self.rows:,} rows in {self.file}: {self.written:,} written in {self.transactions:,} "
                  f"transaction{'s' if self.transactions != 1 else ''}, {self.unchanged:,} already on chain")]
        if self.revoked_skipped:
            parts.append(f"{len(self.revoked_skipped):,} revoked left as they are (--relist-revoked to list them again)")
        if self.settled_in_flight:
            parts.append(f"{self.settled_in_flight} transaction(s) of the interrupted run settled")
        parts.append(f"{self.seconds:.1f}s")
        return ("resumed: " if self.resumed else "") + "; ".join(parts)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_csv(data: bytes, *, source: str = "file") -> list[ImportRow]:
    """Every row of a customs list, validated; raises one error listing the problems found."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WhitelistInputError(source, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise WhitelistInputError(source, f"missing column(s) {', '.join(missing)}; the header must name {','.join(COLUMNS)}")
    reader.fieldnames = header
    rows: list[ImportRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # blank line
        try:
            row = _parse_row(record, line)
        except (WhitelistInputError, UsccError) as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        first = seen.setdefault(row.content.uscc, line)
        if first != line:
            problems.append(f"line {line}: uscc: {row.content.uscc} is already on line {first}")
            continue
        rows.append(row)
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise WhitelistInputError(source, f"{len(problems)} invalid row(s), nothing was sent: {shown}{more}")
    if not rows:
        raise WhitelistInputError(source, "holds no rows")
    return rows


def _parse_row(record: dict, line: int) -> ImportRow:
    def cell(name: str) -> str:
        value = record.get(name)
        return value.strip() if isinstance(value, str) else ""

    uscc = validate_uscc(cell("uscc"))
    level = parse_level(cell("level"))
    scopes = parse_scopes([cell("scopes")], field="scopes")
    valid_from = parse_time(cell("valid_from"), field="valid_from")
    valid_until = parse_time(cell("valid_until"), field="valid_until")
    digest = cell("dossier_sha256").lower().removeprefix("0x")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise WhitelistInputError("dossier_sha256", f"{cell('dossier_sha256')!r} is not a SHA-256 in hex (64 digits)")
    content = EntryContent(uscc, level, scopes, valid_from, valid_until, bytes.fromhex(digest))
    return ImportRow(line, content, cell("name"))


def entry_gas(current: Entry) -> int:
    """Upper bound of the gas ``setEntries`` spends on one entry, given what the chain holds."""
    if not current.listed:
        return GAS_NEW_ENTRY
    gas = GAS_UPDATE_ENTRY
    if current.status == EntryStatus.REVOKED and current.status_reason:
        gas += GAS_PER_REASON_WORD * (1 + math.ceil(len(current.status_reason.encode()) / 32))
    return gas


def pack(items: Sequence[tuple[ImportRow, int]], *, gas_budget: int, max_entries: int | None) -> list[list[tuple[ImportRow, int]]]:
    """Greedy batches: each within ``gas_budget`` (base included) and ``max_entries``."""
    batches: list[list[tuple[ImportRow, int]]] = []
    current: list[tuple[ImportRow, int]] = []
    used = GAS_BASE
    for item in items:
        if current and (used + item[1] > gas_budget or (max_entries and len(current) >= max_entries)):
            batches.append(current)
            current, used = [], GAS_BASE
        current.append(item)
        used += item[1]
    if current:
        batches.append(current)
    return batches


TRANSACTION_GAS_CAP = 15_000_000


def gas_budget(gas_limit: int, base_fee: int | None) -> int:
    """Gas one import transaction may claim in a block with this limit and base fee.

    Where the base fee is zero (the embedded chain; Besu with ``zeroBaseFee``) a block fuller than
    the EIP-1559 gas target (half the limit) would raise it to 1 wei, and on the embedded chain it
    never falls back, which locks out the zero-priced transactions that chain relies on: there,
    each transaction stays under the target. Elsewhere it may fill 90% of the block. Either way
    one transaction claims at most ``TRANSACTION_GAS_CAP``: nodes cap a single transaction's gas
    (EIP-7825), and a chain with a huge block limit (the embedded one) gains nothing from larger
    transactions but slower retries.
    """
    if base_fee == 0:
        return min(int(gas_limit // 2 * TARGET_SHARE), TRANSACTION_GAS_CAP)
    return min(int(gas_limit * BLOCK_SHARE), TRANSACTION_GAS_CAP)


def max_entries_per_transaction(gas_limit: int, base_fee: int | None = None) -> int:
    """How many new entries one import transaction carries in such a block."""
    return max(1, int((gas_budget(gas_limit, base_fee) - GAS_BASE) // GAS_NEW_ENTRY))


Progress = Callable[[int, int, str], None]


class Importer:
    """Imports customs lists into one whitelist, journalled in ``engine``."""

    def __init__(self, whitelist: Whitelist, engine: Engine, sender: LocalAccount, *, batch_size: int | None = None,
                 in_flight: int = 4, relist_revoked: bool = False, progress: Progress | None = None) -> None:
        if batch_size is not None and batch_size < 1:
            raise WhitelistInputError("batch-size", "must be at least 1")
        self.whitelist = whitelist
        self.chain = whitelist.chain
        self.engine = engine
        self.sender = sender
        self.batch_size = batch_size
        self.in_flight = max(1, in_flight)
        self.relist_revoked = relist_revoked
        self.progress = progress or (lambda done, total, note: None)

    def run_file(self, path: Path) -> ImportReport:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise WhitelistInputError("file", f"cannot read {path}: {exc.strerror}") from None
        return self.run(data, name=str(path))

    def run(self, data: bytes, *, name: str = "import.csv") -> ImportReport:
        started = time.perf_counter()
        rows = parse_csv(data, source=Path(name).name)
        report = ImportReport(file=name, rows=len(rows))
        import_id, report.resumed = self._journal(file_sha256(data), name, len(rows))
        report.import_id = import_id
        try:
            report.settled_in_flight = self._settle_recorded(import_id)
            self._drain_pending()
            self._save_names(rows)
            block = self.whitelist.latest_block()
            current = self.whitelist.entries([r.content.uscc for r in rows], block.number)
            todo: list[tuple[ImportRow, int]] = []
            for row, entry in zip(rows, current, strict=True):
                if entry.same_content(row.content):
                    report.unchanged += 1
                elif entry.status == EntryStatus.REVOKED and not self.relist_revoked:
                    report.revoked_skipped.append(row.content.uscc)
                else:
                    todo.append((row, entry_gas(entry)))
            done = len(rows) - len(todo)
            self.progress(done, len(rows), f"{report.unchanged:,} already on chain")
            if todo:
                self._preflight(todo[0][0])
                head = self.chain._guard(lambda: self.chain.w3.eth.get_block("latest"))
                budget = gas_budget(head["gasLimit"], head.get("baseFeePerGas"))
                batches = pack(todo, gas_budget=budget, max_entries=self.batch_size)
                self._send(import_id, batches, report, done, len(rows))
            report.seconds = time.perf_counter() - started
            self._finish(import_id, report)
            return report
        except BaseException as exc:
            self._fail(import_id, exc)
            raise

    # -- journal ---------------------------------------------------------

    def _journal(self, sha: str, name: str, rows: int) -> tuple[int, bool]:
        address = self.whitelist.address
        with self.engine.begin() as conn:
            unfinished = conn.execute(
                sa.select(_imports.c.id).where(_imports.c.contract == address, _imports.c.file_sha256 == sha,
                                               _imports.c.status != ImportStatus.DONE)
                .order_by(_imports.c.id.desc())).first()
            if unfinished is not None:
                conn.execute(sa.update(_imports).where(_imports.c.id == unfinished.id).values(
                    status=ImportStatus.RUNNING, runs=_imports.c.runs + 1, last_error=None, file_name=name))
                return unfinished.id, True
            result = conn.execute(sa.insert(_imports).values(
                contract=address, file_sha256=sha, file_name=name, rows=rows, status=ImportStatus.RUNNING, runs=1,
                written=0, transactions=0, started_at=datetime.now(UTC)))
            return result.inserted_primary_key[0], False

    def _settle_recorded(self, import_id: int) -> int:
        """Wait for the transactions a previous run sent but did not see mined."""
        with self.engine.connect() as conn:
            pending = conn.execute(sa.select(_batches.c.id, _batches.c.tx_hash).where(
                _batches.c.import_id == import_id, _batches.c.status == BatchStatus.SENT)
                .order_by(_batches.c.batch_no)).all()
        for batch_id, tx_hash in pending:
            self._settle(batch_id, HexBytes(tx_hash))
        return len(pending)

    def _settle(self, batch_id: int, tx_hash: HexBytes) -> int:
        """Wait for one recorded transaction and record the outcome; returns the gas used."""
        try:
            receipt = self.chain.wait(tx_hash)
        except ChainTimeoutError as exc:
            raise ChainError(f"{exc.message}; it stays recorded, and the next run of this import waits for it "
                             "again instead of sending it twice") from None
        except LedgerError:
            with self.engine.begin() as conn:
                conn.execute(sa.update(_batches).where(_batches.c.id == batch_id).values(
                    status=BatchStatus.FAILED, settled_at=datetime.now(UTC)))
            raise
        with self.engine.begin() as conn:
            conn.execute(sa.update(_batches).where(_batches.c.id == batch_id).values(
                status=BatchStatus.MINED, gas_used=receipt["gasUsed"], block_number=receipt["blockNumber"],
                settled_at=datetime.now(UTC)))
        return receipt["gasUsed"]

    def _drain_pending(self) -> None:
        """Wait until no transaction of the sending key is pending (one sent by a run that died
        before recording it), so the comparison with the chain sees everything already sent."""
        w3, address = self.chain.w3, self.sender.address
        deadline = time.monotonic() + self.chain.receipt_timeout
        while self.chain._guard(lambda: w3.eth.get_transaction_count(address, "pending")) > \
                self.chain._guard(lambda: w3.eth.get_transaction_count(address, "latest")):
            if time.monotonic() >= deadline:
                raise ChainError(f"transactions of {address} are still pending on {self.chain.description} after "
                                 f"{self.chain.receipt_timeout:.0f}s; run the import again once they are mined")
            time.sleep(0.2)

    def _save_names(self, rows: Sequence[ImportRow]) -> None:
        named = {r.content.uscc: r.name for r in rows if r.name}
        if not named:
            return
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            existing = {}
            keys = list(named)
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                existing.update((uscc, name) for uscc, name in conn.execute(
                    sa.select(_traders.c.uscc, _traders.c.name).where(_traders.c.uscc.in_(chunk))))
            new = [{"uscc": u, "name": n, "updated_at": now} for u, n in named.items() if u not in existing]
            if new:
                conn.execute(sa.insert(_traders), new)
            for uscc, name in named.items():
                if uscc in existing and existing[uscc] != name:
                    conn.execute(sa.update(_traders).where(_traders.c.uscc == uscc).values(name=name, updated_at=now))

    def _finish(self, import_id: int, report: ImportReport) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(_imports).where(_imports.c.id == import_id).values(
                status=ImportStatus.DONE, finished_at=datetime.now(UTC), last_error=None,
                written=_imports.c.written + report.written,
                transactions=_imports.c.transactions + report.transactions))

    def _fail(self, import_id: int, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.update(_imports).where(_imports.c.id == import_id).values(
                    status=ImportStatus.FAILED, last_error=message[:2000]))
        except sa.exc.SQLAlchemyError:  # the original failure matters more than the journal's
            return

    # -- sending ---------------------------------------------------------

    def _preflight(self, row: ImportRow) -> None:
        """Simulate one entry from the sending key, so a key without CUSTOMS fails before any gas is spent."""
        fn = self.whitelist.contract.functions.setEntries([row.content.as_input()])
        try:
            self.chain._guard(lambda: fn.call({"from": self.sender.address, **self.chain.call_overrides}))
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from None

    def _send(self, import_id: int, batches: list[list[tuple[ImportRow, int]]], report: ImportReport,
              done: int, total: int) -> None:
        with self.engine.connect() as conn:
            next_no = (conn.execute(sa.select(sa.func.max(_batches.c.batch_no))
                                    .where(_batches.c.import_id == import_id)).scalar() or 0) + 1
        waiting: deque[tuple[int, HexBytes, int]] = deque()

        def settle_oldest() -> None:
            nonlocal done
            batch_id, tx_hash, size = waiting.popleft()
            report.gas_used += self._settle(batch_id, tx_hash)
            report.written += size
            done += size
            self.progress(done, total, f"{report.transactions} transaction(s)")

        for batch in batches:
            gas = GAS_BASE + sum(g for _, g in batch)
            tx_hash = self.whitelist.send_entries([r.content for r, _ in batch], sender=self.sender, gas=gas)
            with self.engine.begin() as conn:
                batch_id = conn.execute(sa.insert(_batches).values(
                    import_id=import_id, batch_no=next_no, entries=len(batch), first_line=batch[0][0].line,
                    last_line=batch[-1][0].line, tx_hash="0x" + bytes(tx_hash).hex(), status=BatchStatus.SENT,
                    gas_limit=gas, sent_at=datetime.now(UTC))).inserted_primary_key[0]
            next_no += 1
            report.transactions += 1
            report.batch_sizes.append(len(batch))
            waiting.append((batch_id, tx_hash, len(batch)))
            if len(waiting) >= self.in_flight:
                settle_oldest()
        while waiting:
            settle_oldest()
