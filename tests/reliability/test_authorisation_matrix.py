"""Issue 8, item 5: every write tried by every actor; only the cells the table allows succeed.

The table is ``tests/reliability/authorisation.py`` (capture rows derived from
the enforced role policy). Here a *world* gives each actor its key on a served
node over the embedded chain, prepares the targets the writes need (a listed
trader to suspend, a registered lot to recall...), and every cell is tried for
real: a contract function sent by the actor's key, a capture signed by it, a
whitelist change it signs and the service relays. A refusal must be a refusal
for want of authority (the contract's Unauthorized error, a 401/403 naming
the signer); any other failure fails the test naming the cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError

import ledger.status.errors  # noqa: F401  (registers ProductStatus's revert errors for decode_revert)
from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.capture.policy import RULES
from ledger.chain.artifacts import load_artifact
from ledger.chain.deploy import participant_id, role_id
from ledger.chain.reverts import UnauthorizedError, decode_revert
from ledger.client import LedgerClient, epcis_document
from ledger.config import Settings
from ledger.epcis.build import gln, gtin, item, lot, object_event
from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING
from ledger.gs1 import with_check_digit
from ledger.keystore import create_keystore
from ledger.log.hasher import hash_leaf
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.participants.roles import ROLES
from ledger.participants.service import sync_registry
from ledger.runtime import Ledger
from ledger.whitelist.model import CreditLevel, EntryContent
from ledger.whitelist.service import Whitelist
from ledger.whitelist.uscc import to_bytes18
from tests.reliability.authorisation import (
    ACTORS,
    ADMIN_ROLE_ID,
    EVIDENCE,
    NOTICE,
    READ_ONLY_POSTS,
    README_END,
    README_START,
    REASON,
    WRITES,
    Actor,
    ApiWrite,
    ContractWrite,
    Write,
    covered_functions,
    matrix_markdown,
)
from tests.support import REPO_ROOT, TEST_SCRYPT_N
from tests.whitelist.conftest import content, uscc

pytestmark = pytest.mark.reliability

PASSWORD = "matrix test password"
TX_GAS = 3_000_000
PRODUCT = gtin("0952400000010")
LOCATION = gln("952400000001")
AUTHORITY_ERRORS = {"UnknownSignerError", "SignerNotAllowedError", "PolicyRefusedError", "WhitelistUnauthorizedError"}
"""The API's answers that mean "this key may not": anything else is not an authorisation outcome."""


@dataclass
class World:
    """A served node, a key per actor, and the targets the writes need (made fresh once used up)."""

    http: TestClient
    ledger: Ledger
    keys: dict[str, LocalAccount]
    bystander: LocalAccount  # a PRODUCER outside the columns: the "other producer" of the recall rows
    _targets: dict[str, Any] = field(default_factory=dict)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _clients: dict[str, LedgerClient] = field(default_factory=dict)  # one per key: each caches the signing domain

    # -- who ----------------------------------------------------------------------------------

    def key(self, actor: Actor) -> LocalAccount:
        return self.keys[actor.name]

    def address_of(self, actor: Actor) -> str:
        return self.key(actor).address

    def actor(self, name: str) -> LocalAccount:
        return self.keys[name]

    @property
    def operator(self) -> LocalAccount:
        return self.keys["operator"]

    # -- fresh things --------------------------------------------------------------------------

    def unique(self) -> int:
        return next(self._counter)

    def new_lot(self) -> str:
        return lot(PRODUCT, f"M{self.unique()}")

    def new_pack(self) -> str:
        return item(PRODUCT, f"P{self.unique()}")

    def new_key(self) -> str:
        """A canonical trace key for ProductStatus (the Digital Link path of a new pack)."""
        return f"/01/{PRODUCT}/21/S{self.unique()}"

    def new_address(self) -> str:
        return Account.create().address

    def new_gln(self) -> str:
        return with_check_digit(f"9525{self.unique():08d}")

    def new_participant(self, *roles: str) -> tuple[Any, ...]:
        """``registerParticipant`` arguments of a new participant (no keys)."""
        number = self.new_gln()
        return participant_id(number), int(number), f"Matrix participant {number}", [role_id(r) for r in roles], []

    def new_entry(self, level: CreditLevel = CreditLevel.GENERAL, scopes: int = 1) -> EntryContent:
        return content(uscc(self.unique(), region="350299"), level=level, scopes=scopes)

    # -- events --------------------------------------------------------------------------------

    def commissioning(self, epc: str) -> dict[str, Any]:
        quantity = [(epc, 10, "KGM")] if "/10/" in epc else []
        return object_event(epcs=[] if quantity else [epc], quantities=quantity, action="ADD",
                            biz_step="commissioning", disposition="active", location=LOCATION)

    def dispensing(self, pack: str) -> dict[str, Any]:
        return object_event(epcs=[pack], biz_step="dispensing", disposition="dispensed", location=LOCATION)

    def clearance(self, pack: str) -> dict[str, Any]:
        return object_event(epcs=[pack], biz_step=BIZ_STEP_CUSTOMS_CLEARING, location=LOCATION)

    def shipping(self, lot_uri: str) -> dict[str, Any]:
        return object_event(quantities=[(lot_uri, 10, "KGM")], biz_step="shipping", disposition="in_transit",
                            location=LOCATION)

    def recall_event(self, lot_uri: str) -> dict[str, Any]:
        return object_event(quantities=[(lot_uri, 10, "KGM")], biz_step="holding", disposition="recalled",
                            location=LOCATION)

    # -- acting ---------------------------------------------------------------------------------

    def capture(self, actor: Actor | LocalAccount, event: dict[str, Any]) -> httpx.Response:
        account = actor if isinstance(actor, LocalAccount) else self.key(actor)
        client = self._clients.setdefault(account.address, LedgerClient(account=account, http=self.http))
        signed = client.sign(epcis_document([event]))
        return self.http.post("/capture", json=signed.document, headers=signed.headers)

    def relay(self, actor: Actor, action: str, params: dict[str, Any]) -> httpx.Response:
        whitelist = Whitelist.from_ledger(self.ledger)
        request = whitelist.sign(action, params, self.key(actor))
        return self.http.post(f"/v1/traders/{request.uscc}/changes", json=request.to_json())

    def function(self, contract: str, function: str, *args: Any) -> ContractFunction:
        return getattr(self.ledger.contract(contract).functions, function)(*args)

    def send(self, contract: str, function: str, *args: Any, sender: LocalAccount) -> None:
        # A fixed gas limit (gas is free here): py-evm's estimate runs the call ~20 times, 200 ms a transaction.
        self.ledger.chain.transact(self.function(contract, function, *args), sender=sender, gas=TX_GAS)

    def try_send(self, contract: str, function: str, *args: Any, sender: LocalAccount) -> bool:
        """Send the call if ``sender`` may make it (True); False if the contract refuses it for want of authority.

        Tried as an eth_call from ``sender`` first (the EVM runs the same code with ``sender`` as msg.sender),
        so a refusal costs no block; what it allows is then mined, and must succeed. Any other revert raises.
        """
        try:
            self.function(contract, function, *args).call({**self.ledger.chain.call_overrides, "from": sender.address})
        except ContractLogicError as exc:
            error = decode_revert(exc.data if isinstance(exc.data, str) else None)
            if isinstance(error, UnauthorizedError):
                return False
            raise error from None
        self.send(contract, function, *args, sender=sender)
        return True

    def lot_commissioned_by(self, actor: Actor) -> str:
        """A new lot whose commissioning ``actor`` tried to capture (it is the actor's only if that succeeded)."""
        lot_uri = self.new_lot()
        self.capture(actor, self.commissioning(lot_uri))
        return lot_uri

    def lot_registered_by(self, actor: Actor) -> str:
        """A new key ``actor`` tried to register as its lot on chain (it is the actor's only if that succeeded)."""
        key = self.new_key()
        self.try_send("ProductStatus", "registerLot", key, sender=self.key(actor))
        return key

    # -- targets a write uses up ---------------------------------------------------------------

    def target(self, kind: str) -> Any:
        if kind not in self._targets:
            self._targets[kind] = self._make(kind)
        return self._targets[kind]

    def consume(self, kind: str) -> None:
        self._targets.pop(kind, None)

    def _make(self, kind: str) -> Any:
        makers: dict[str, Callable[[], Any]] = {
            "lot commissioned by another": self._bystander_lot,
            "active participant": self._participant,
            "suspended participant": self._suspended_participant,
            "registered key": self._registered_key,
            "participant without AUDITOR": self._participant,
            "participant with AUDITOR": lambda: self._participant("AUDITOR"),
            "governance account": self._governance_account,
            "next checkpoint": self._next_checkpoint,
            "active trader": lambda: self._trader(),
            "suspended trader": lambda: self._trader(suspended=True),
            "dishonest trader": lambda: self._trader(CreditLevel.DISHONEST),
            "lot registered by another": self._bystander_registered_key,
            "recalled lot": self._recalled_key,
        }
        return makers[kind]()

    def _bystander_lot(self) -> str:
        lot_uri = self.new_lot()
        assert self.capture(self.bystander, self.commissioning(lot_uri)).status_code == 202
        return lot_uri

    def _participant(self, *roles: str) -> bytes:
        args = self.new_participant(*roles)
        self.send("ParticipantRegistry", "registerParticipant", *args, sender=self.operator)
        return args[0]

    def _suspended_participant(self) -> bytes:
        pid = self._participant()
        self.send("ParticipantRegistry", "suspendParticipant", pid, sender=self.operator)
        return pid

    def _registered_key(self) -> str:
        address = self.new_address()
        self.send("ParticipantRegistry", "addKey", self._participant(), address, sender=self.operator)
        return address

    def _governance_account(self) -> str:
        address = self.new_address()
        self.send("ParticipantRegistry", "grantRole", ADMIN_ROLE_ID, address, sender=self.operator)
        return address

    def _next_checkpoint(self) -> tuple[int, bytes, list[bytes]]:
        """(size, root, consistency proof) extending the contract's latest checkpoint by one leaf."""
        latest = self.ledger.chain.call(self.ledger.contract("CheckpointAnchor").functions.latestCheckpoint())[0]
        log = MerkleLog(MemoryNodeStore())
        log.append_many(hash_leaf(f"matrix leaf {i}".encode()) for i in range(latest + 1))
        proof = log.consistency_proof(latest, latest + 1) if latest else []
        return latest + 1, log.root(latest + 1), proof

    def _trader(self, level: CreditLevel = CreditLevel.GENERAL, *, suspended: bool = False) -> str:
        officer = self.actor("CUSTOMS")
        entry = self.new_entry(level, 0 if level == CreditLevel.DISHONEST else 1)
        self.send("TraderWhitelist", "setEntry", entry.as_input(), sender=officer)
        if suspended:
            self.send("TraderWhitelist", "suspendEntry", to_bytes18(entry.uscc), REASON, sender=officer)
        return entry.uscc

    def _bystander_registered_key(self) -> str:
        key = self.new_key()
        self.send("ProductStatus", "registerLot", key, sender=self.bystander)
        return key

    def _recalled_key(self) -> str:
        key = self.new_key()
        self.send("ProductStatus", "recall", key, NOTICE, EVIDENCE, sender=self.actor("REGULATOR"))
        return key


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A data dir as `traceledger init` makes it (the operator holds ADMIN and ANCHOR only), served without
    the anchorer (the matrix anchors itself), a participant per role, a suspended one and a revoked key."""
    data_dir = tmp_path_factory.mktemp("matrix") / "node"
    create_keystore(data_dir / "keystore" / "admin.json", PASSWORD, scrypt_n=TEST_SCRYPT_N)
    settings = Settings(data_dir=data_dir, key_password=PASSWORD, anchor_enabled=False)
    init_data_dir(settings)
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        keys: dict[str, LocalAccount] = {"operator": ledger.service_account, "unknown key": Account.create()}
        world = World(http=http, ledger=ledger, keys=keys, bystander=Account.create())

        def register(account: LocalAccount, *roles: str) -> bytes:
            pid, gln_number, name, role_ids, _ = world.new_participant(*roles)
            world.send("ParticipantRegistry", "registerParticipant", pid, gln_number, name, role_ids,
                       [account.address], sender=world.operator)
            return pid

        for role in ROLES:
            register(keys.setdefault(role, Account.create()), role)
        suspended = register(keys.setdefault("suspended", Account.create()), *ROLES)
        world.send("ParticipantRegistry", "suspendParticipant", suspended, sender=world.operator)
        register(keys.setdefault("revoked key", Account.create()), *ROLES)
        world.send("ParticipantRegistry", "revokeKey", keys["revoked key"].address, sender=world.operator)
        register(world.bystander, "PRODUCER")
        sync_registry(ledger)  # capture authorises from the mirror: current before the first cell
        yield world


def attempt(world: World, write: Write, actor: Actor) -> bool:
    """True if ``actor`` made ``write``, False if it was refused for want of authority; raises otherwise."""
    if isinstance(write, ContractWrite):
        return world.try_send(write.contract, write.function, *write.args(world, actor), sender=world.key(actor))
    response = write.attempt(world, actor)
    if response.status_code in (201, 202):
        return True
    body = response.json()
    if response.status_code in (401, 403) and body.get("error") in AUTHORITY_ERRORS:
        return False
    raise AssertionError(f"{write.label} by {actor.name}: {response.status_code} {body}")


def test_only_the_allowed_cells_succeed(world: World) -> None:
    wrong: list[str] = []
    for write in WRITES:
        for actor in ACTORS:
            succeeded = attempt(world, write, actor)
            if succeeded and write.consumes:
                world.consume(write.consumes)
            if succeeded != write.allowed.permits(actor):
                wrong.append(f"{write.label} by {actor.name}: {'succeeded' if succeeded else 'refused'}, "
                             f"the table says {'allowed' if write.allowed.permits(actor) else 'refused'}")
    cells = len(WRITES) * len(ACTORS)
    allowed = sum(write.allowed.permits(actor) for write in WRITES for actor in ACTORS)
    print(f"\nauthorisation matrix: {cells} cells checked ({len(WRITES)} writes x {len(ACTORS)} actors), "
          f"{allowed} allowed, {cells - allowed} refused, {len(wrong)} wrong")
    assert not wrong, "\n".join(wrong)


def test_every_contract_write_has_a_row(world: World) -> None:
    """Every external function that changes state, of every contract the data dir deploys, is in the table."""
    functions = {
        f"{name}.{item['name']}"
        for name in world.ledger.manifest.contracts
        for item in load_artifact(name).abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert functions - covered_functions() == set(), "contract writes missing from the matrix"
    assert covered_functions() - functions == set(), "matrix rows naming no deployed contract function"
    print(f"\nauthorisation matrix: {len(functions)} contract functions, each with a row")


def test_every_write_route_has_a_row(world: World) -> None:
    paths = world.http.app.openapi()["paths"]
    routes = {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations
              if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}}
    rows = {write.route for write in WRITES if isinstance(write, ApiWrite)}
    assert routes - rows - READ_ONLY_POSTS.keys() == set(), "write routes missing from the matrix"
    assert rows <= routes, "matrix rows naming no route"


def test_every_rule_of_the_role_policy_has_a_capture_row() -> None:
    exercised = {write.policy_rule for write in WRITES if isinstance(write, ApiWrite) and write.policy_rule}
    assert exercised == {rule.name for rule in RULES}


def test_readme_prints_the_matrix() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in readme and README_END in readme, (
        f"README.md has no {README_START} ... {README_END} section for the authorisation matrix")
    printed = readme.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert printed == matrix_markdown(), "the README's authorisation matrix differs from the enforced table"
