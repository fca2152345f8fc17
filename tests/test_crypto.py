"""Encryption at rest: rotation, binding to a row, and retired keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from leadloop_bot.crypto import CiphertextRejected, Keyring, KeyringError


def test_rotation_keeps_old_ciphertexts_readable_and_encrypts_with_the_newest_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = Keyring([old]).encrypt({"refresh_token": "r1"}, bound_to="addr-1")
    rotated = Keyring([new, old])
    assert rotated.decrypt(before, bound_to="addr-1") == {"refresh_token": "r1"}
    after = rotated.encrypt({"refresh_token": "r2"}, bound_to="addr-1")
    assert Keyring([new]).decrypt(after, bound_to="addr-1") == {"refresh_token": "r2"}
    assert rotated.primary_key_id == Keyring([new]).primary_key_id != Keyring([old]).primary_key_id


def test_a_retired_key_fails_loudly_not_silently() -> None:
    ciphertext = Keyring([Fernet.generate_key()]).encrypt({"t": "x"}, bound_to="a")
    with pytest.raises(CiphertextRejected):
        Keyring([Fernet.generate_key()]).decrypt(ciphertext, bound_to="a")


def test_a_ciphertext_copied_onto_another_row_is_refused() -> None:
    keyring = Keyring([Fernet.generate_key()])
    ciphertext = keyring.encrypt({"t": "x"}, bound_to="alice-address")
    with pytest.raises(CiphertextRejected):
        keyring.decrypt(ciphertext, bound_to="mallory-address")


@pytest.mark.parametrize("value", ["", "short", "x" * 44, ","])
def test_malformed_keys_are_refused(value: str) -> None:
    with pytest.raises(KeyringError):
        Keyring.parse(value)


def test_derived_signing_keys_differ_from_the_encryption_key_and_by_purpose() -> None:
    key = Fernet.generate_key()
    keyring = Keyring([key])
    assert keyring.derive("a") != keyring.derive("b")
    assert key not in keyring.derive("a")
