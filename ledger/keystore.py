"""Participants' keys as standard Ethereum keystore (v3) files.

A key is decrypted only in memory and only when a transaction or signature
needs it; nothing here logs or returns a private key in text.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.errors import KeystoreError

# scrypt's standard work factor (2**18) costs about a second per decryption;
# interactive tools decrypt once per command, so keep the standard.
SCRYPT_N = 2**18


def resolve_password(settings: Settings, *, purpose: str, confirm: bool = False) -> str:
    """The keystore password from settings, a password file, or the terminal."""
    if settings.key_password is not None:
        return settings.key_password.get_secret_value()
    if settings.key_password_file is not None:
        try:
            return settings.key_password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise KeystoreError(f"cannot read the keystore password file {settings.key_password_file}: {exc}") from None
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Keystore password ({purpose}): ")
        if confirm and getpass.getpass("Repeat the password: ") != password:
            raise KeystoreError("the two passwords differ; nothing was written")
        return password
    raise KeystoreError(
        f"no keystore password for {purpose}: set TRACELEDGER_KEY_PASSWORD or "
        "TRACELEDGER_KEY_PASSWORD_FILE (or run in a terminal to be asked)"
    )


def create_keystore(path: Path, password: str, *, scrypt_n: int = SCRYPT_N) -> LocalAccount:
    """Generate a key and write it encrypted to ``path`` (which must not exist).

    The file is created with mode 0600 and written atomically, so a crash
    leaves either no file or a complete one.
    """
    if path.exists():
        raise KeystoreError(f"keystore {path} already exists; refusing to overwrite a key")
    if not password:
        raise KeystoreError("an empty keystore password is not allowed")
    account = Account.create()
    encrypted = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(encrypted, out)
    tmp.replace(path)
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the key in ``path``; a wrong password or a damaged file is a KeystoreError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeystoreError(f"keystore file {path} does not exist (run `traceledger init`?)") from None
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore file {path} is not a readable keystore: {exc}") from None
    try:
        return Account.from_key(Account.decrypt(data, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"wrong password for keystore {path}") from None
        raise KeystoreError(f"keystore file {path} is damaged or not v3: {exc}") from None


def keystore_address(path: Path) -> str:
    """The address recorded in a keystore file, without decrypting it."""
    try:
        return "0x" + json.loads(path.read_text(encoding="utf-8"))["address"].removeprefix("0x")
    except (OSError, ValueError, KeyError) as exc:
        raise KeystoreError(f"keystore file {path} is not a readable keystore: {exc}") from None
