"""Deploy the consortium's contracts and register the operator.

The deployer (the service key made by ``init``) becomes the registry's
governor and is registered as the operator participant holding ADMIN and
ANCHOR, so the same key can anchor checkpoints from the first minute. A
production consortium would later move ADMIN to a multisig.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.base import Chain
from ledger.gs1 import validate_gln, with_check_digit

OPERATOR_GLN = with_check_digit("952000000000")
OPERATOR_NAME = "traceledger operator"


def role_id(name: str) -> bytes:
    """On-chain role identifier: keccak256 of the upper-case role name."""
    return keccak(text=name.upper())


def participant_id(gln: str) -> bytes:
    """A participant's on-chain id: keccak256 of its 13-digit GLN."""
    return keccak(text=validate_gln(gln))


def deploy_contracts(chain: Chain, admin: LocalAccount, *, operator_gln: str = OPERATOR_GLN) -> dict[str, str]:
    """Deploy registry, anchor, trader whitelist and product status; register the operator. Returns name -> address."""
    registry = chain.deploy("ParticipantRegistry", sender=admin)
    anchor = chain.deploy("CheckpointAnchor", registry.address, sender=admin)
    whitelist = chain.deploy("TraderWhitelist", registry.address, sender=admin)
    status = chain.deploy("ProductStatus", registry.address, sender=admin)
    chain.transact(
        registry.functions.registerParticipant(
            participant_id(operator_gln), int(operator_gln), OPERATOR_NAME,
            [role_id("ADMIN"), role_id("ANCHOR")], [admin.address],
        ),
        sender=admin,
    )
    return {
        "ParticipantRegistry": registry.address,
        "CheckpointAnchor": anchor.address,
        "TraderWhitelist": whitelist.address,
        "ProductStatus": status.address,
    }
