"""Registry writes through the service: checked before sending, refusals typed,
the mirror synced after each write."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from sqlmodel import Session

from ledger.chain.deploy import OPERATOR_GLN, participant_id
from ledger.chain.reverts import UnauthorizedError, decode_revert
from ledger.gs1 import with_check_digit
from ledger.participants import service
from ledger.participants.errors import (
    GlnAlreadyRegisteredError,
    KeyAlreadyRegisteredError,
    ParticipantInputError,
    ParticipantNotFoundError,
    ParticipantStateError,
    RoleConflictError,
)
from ledger.participants.indexer import key_status
from tests.participants.mirror import assert_mirror_matches_chain

FARM = with_check_digit("400000000001")
SHOP = with_check_digit("400000000003")


def test_register_and_the_whole_lifecycle(ledger, engine) -> None:
    k1, k2 = Account.create().address, Account.create().address
    info = service.register_participant(ledger, gln=FARM, name="  Green Farm ", roles=["producer", "Distributor", "PRODUCER"], keys=[k1.lower()])
    assert info.gln == FARM and info.name == "Green Farm" and info.status == "active"
    assert info.roles == ("PRODUCER", "DISTRIBUTOR")
    assert info.id == "0x" + participant_id(FARM).hex()
    assert [k.address for k in info.keys] == [k1]

    assert service.suspend_participant(ledger, gln=FARM).status == "suspended"
    assert service.reactivate_participant(ledger, gln=FARM).status == "active"
    assert [k.address for k in service.add_key(ledger, gln=FARM, key=k2).active_keys] == [k1, k2]
    assert [k.address for k in service.revoke_key(ledger, key=k1).active_keys] == [k2]
    assert service.grant_role(ledger, gln=FARM, role="auditor").roles == ("PRODUCER", "DISTRIBUTOR", "AUDITOR")
    assert service.revoke_role(ledger, gln=FARM, role="DISTRIBUTOR").roles == ("PRODUCER", "AUDITOR")
    assert_mirror_matches_chain(engine, ledger.chain, ledger.contract("ParticipantRegistry"), {OPERATOR_GLN, FARM})
    with Session(engine) as session:
        assert key_status(session, k2).may_act_as("AUDITOR")
        assert key_status(session, k1).key_revoked


def test_the_indexer_starts_at_the_operators_registration(ledger) -> None:
    registry = ledger.contract("ParticipantRegistry")
    operator = ledger.chain.call(registry.functions.getParticipant(participant_id(OPERATOR_GLN)))
    assert service.registry_start_block(ledger) == operator[6] > 0
    assert service.sync_registry(ledger) == 4
    assert service.sync_registry(ledger) == 0


@pytest.mark.parametrize(
    ("arguments", "field", "fragment"),
    [
        ({"gln": "4000000000012"}, "gln", "check digit 2, expected 3"),
        ({"gln": "400000000001"}, "gln", "13 digits"),
        ({"gln": "40000000000x3"}, "gln", "13 digits"),
        ({"gln": "0000000000000"}, "gln", "not allowed"),
        ({"roles": ["PRODUCER", "farmer"]}, "role", "unknown role 'farmer'"),
        ({"name": "   "}, "name", "empty"),
        ({"name": "é" * 129}, "name", "258 bytes"),
        ({"name": "two\nlines"}, "name", "control characters"),
        ({"keys": ["0x123"]}, "key", "not an address"),
        ({"keys": ["0x" + "00" * 20]}, "key", "zero address"),
        ({"keys": ["0xc54517963c095d05cd7746a0cdaf135caaae1479".replace("c5", "C5")]}, "key", "checksum"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(ledger, arguments, field: str, fragment: str) -> None:
    values = {"gln": FARM, "name": "Green Farm", "roles": ["PRODUCER"], "keys": [Account.create().address]} | arguments
    height = ledger.chain.w3.eth.block_number
    with pytest.raises(ParticipantInputError) as caught:
        service.register_participant(ledger, **values)
    assert caught.value.field == field and caught.value.http_status == 400
    assert caught.value.message.startswith(f"{field}: ") and fragment in caught.value.message
    assert "\n" not in caught.value.message
    assert ledger.chain.w3.eth.block_number == height


def test_refusals_of_the_registry_are_typed_and_name_the_field(ledger) -> None:
    key = Account.create().address
    service.register_participant(ledger, gln=FARM, name="Green Farm", roles=["PRODUCER"], keys=[key])

    with pytest.raises(GlnAlreadyRegisteredError) as dup:
        service.register_participant(ledger, gln=FARM, name="Other Farm", roles=["PRODUCER"], keys=[])
    assert dup.value.message.startswith(f"gln: {FARM} is already registered") and dup.value.http_status == 409
    with pytest.raises(KeyAlreadyRegisteredError) as reused:
        service.register_participant(ledger, gln=SHOP, name="Corner Shop", roles=["RETAILER"], keys=[key])
    assert reused.value.message.startswith(f"key: {key} is (or was) a key of participant {FARM};") and reused.value.http_status == 409

    with pytest.raises(ParticipantNotFoundError) as unknown:
        service.suspend_participant(ledger, gln=SHOP)
    assert unknown.value.message == f"gln: no participant is registered under {SHOP}" and unknown.value.http_status == 404
    service.suspend_participant(ledger, gln=FARM)
    with pytest.raises(ParticipantStateError, match="^gln: participant .* is already suspended$"):
        service.suspend_participant(ledger, gln=FARM)
    service.reactivate_participant(ledger, gln=FARM)
    with pytest.raises(ParticipantStateError, match="^gln: .* is active, not suspended$"):
        service.reactivate_participant(ledger, gln=FARM)
    with pytest.raises(ParticipantStateError, match="^role: .* already holds PRODUCER$"):
        service.grant_role(ledger, gln=FARM, role="producer")
    with pytest.raises(ParticipantStateError, match="^role: .* does not hold RETAILER$"):
        service.revoke_role(ledger, gln=FARM, role="retailer")
    stranger = Account.create().address
    with pytest.raises(ParticipantNotFoundError, match=f"^key: {stranger} is not a registered key$"):
        service.revoke_key(ledger, key=stranger)
    service.revoke_key(ledger, key=key)
    with pytest.raises(ParticipantStateError, match="^key: .* was already revoked in block"):
        service.revoke_key(ledger, key=key)
    with pytest.raises(KeyAlreadyRegisteredError):
        service.add_key(ledger, gln=FARM, key=key)  # a revoked key is never registered again


def test_a_key_without_governance_is_refused_clearly(ledger, make_account) -> None:
    ledger.service_account = make_account()  # a key that is not the registry's governor
    with pytest.raises(UnauthorizedError, match="lacks the registry's ADMIN governance role"):
        service.register_participant(ledger, gln=FARM, name="Green Farm", roles=["PRODUCER"], keys=[])


def _revert_data(signature: str, types: list[str], values: list) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


def test_registry_reverts_decode_to_the_typed_errors() -> None:
    pid = participant_id(FARM)
    error = decode_revert(_revert_data("Registry__GlnAlreadyRegistered(uint64,bytes32)", ["uint64", "bytes32"], [int(FARM), pid]))
    assert isinstance(error, GlnAlreadyRegisteredError)
    assert error.message == f"gln: {FARM} is already registered (participant 0x{pid.hex()})"
    role = decode_revert(_revert_data("Registry__RoleAlreadyGranted(bytes32,bytes32)", ["bytes32", "bytes32"], [pid, __import__("ledger.chain.deploy", fromlist=["role_id"]).role_id("CUSTOMS")]))
    assert isinstance(role, RoleConflictError) and role.message.endswith("already holds CUSTOMS")
    # Reasons a key may not act keep meaning "unauthorised" for everyone else (the anchorer, capture).
    suspended = decode_revert(_revert_data("Registry__ParticipantSuspended(bytes32)", ["bytes32"], [pid]))
    assert type(suspended) is UnauthorizedError
