"""Encryption at rest for provider credentials, and the keys derived for signing links.

`ENCRYPTION_KEYS` holds Fernet keys, newest first: MultiFernet encrypts with the first and
decrypts with any, so keys rotate without downtime (SECURITY.md B3). Each ciphertext embeds the
id of the row it belongs to, so a ciphertext copied onto another row fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyringError(ValueError):
    """ENCRYPTION_KEYS is missing or malformed."""


class CiphertextRejected(Exception):
    """The ciphertext was made with a retired key, was tampered with, or belongs to another row."""


class Keyring:
    """The process's encryption keys; the first one is primary."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise KeyringError("ENCRYPTION_KEYS is empty")
        try:
            self._fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError) as exc:
            raise KeyringError(
                "ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)"
            ) from exc
        self._keys = keys
        self._multi = MultiFernet(self._fernets)

    @classmethod
    def parse(cls, value: str) -> Keyring:
        return cls([part.strip().encode() for part in value.split(",") if part.strip()])

    @classmethod
    def local(cls, data_dir: Path) -> Keyring:
        """Local mode only: keep a generated key in a private file so restarts can still decrypt."""
        path = data_dir / "encryption.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls([path.read_bytes().strip()])

    @property
    def primary_key_id(self) -> str:
        return key_id(self._keys[0])

    def encrypt(self, payload: dict[str, Any], *, bound_to: str) -> str:
        """Encrypt `payload` so that only a row with id `bound_to` can read it back."""
        plaintext = json.dumps({"bound_to": bound_to, "payload": payload}, separators=(",", ":"))
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str, *, bound_to: str) -> dict[str, Any]:
        try:
            envelope = json.loads(self._multi.decrypt(ciphertext.encode()))
        except InvalidToken as exc:
            raise CiphertextRejected("no configured key can decrypt this credential") from exc
        if envelope.get("bound_to") != bound_to:
            raise CiphertextRejected("this credential belongs to another row")
        return envelope["payload"]

    def derive(self, purpose: str) -> list[bytes]:
        """Per-purpose secrets (oldest first, as itsdangerous wants them), so signing never reuses an encryption key."""
        return [_hkdf(key, purpose) for key in reversed(self._keys)]


def key_id(key: bytes) -> str:
    """A short fingerprint naming a key without revealing it (Keystone's rotation bookkeeping)."""
    return hashlib.sha256(key).hexdigest()[:12]


def digest(value: str) -> str:
    """One-way hash for values we must look up but never store (OAuth state, browser binding)."""
    return hashlib.sha256(value.encode()).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def _hkdf(key: bytes, purpose: str) -> bytes:
    raw = base64.urlsafe_b64decode(key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(raw)
