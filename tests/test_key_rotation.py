"""`python bot.py rotate-keys`: credentials move to the newest key, so the old one can be retired."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session

from leadloop_bot.crypto import CiphertextRejected, Keyring
from storage.models import Credential, OutboundAddress, Workspace
from tests.support.db import Rows
from tests.support.stack import ROOT


def run_bot(database_url: str, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LEADLOOP_ENV_FILE": "/nonexistent",
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": keys,
    }
    return subprocess.run(
        [sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rotation.db'}"
    server = request.getfixturevalue("postgres")
    name = f"rotation_{uuid.uuid4().hex[:8]}"
    server.create_database(name)
    return server.url(name)


def seed_credentials(rows: Rows, keyring: Keyring, count: int) -> list[str]:
    with Session(rows.engine) as session:
        session.add(Workspace(id="T0ROTATE"))
        session.flush()
        ids = []
        for number in range(count):
            address = OutboundAddress(
                workspace_id="T0ROTATE",
                email=f"rep{number}@acme.example",
                display_name="Rep",
                assigned_user_id="UJANE",
                added_by_user_id="UADMIN",
                provider="google",
            )
            session.add(address)
            session.flush()
            secret = {"access_token": f"at-{number}", "refresh_token": f"rt-{number}"}
            session.add(
                Credential(
                    address_id=address.id,
                    workspace_id="T0ROTATE",
                    connector="google",
                    ciphertext=keyring.encrypt(secret, bound_to=address.id),
                    key_id=keyring.primary_key_id,
                    subject=address.email,
                )
            )
            ids.append(address.id)
        session.commit()
    return ids


def test_rotation_re_encrypts_under_the_new_key_and_the_old_key_can_go(empty_database: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert run_bot(empty_database, old, "migrate").returncode == 0
    rows = Rows(empty_database)
    ids = seed_credentials(rows, Keyring.parse(old), count=3)

    done = run_bot(empty_database, f"{new},{old}", "rotate-keys")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 3 credentials" in done.stderr
    assert old not in done.stderr and new not in done.stderr

    only_new = Keyring.parse(new)
    for number, address_id in enumerate(ids):
        credential = rows.one(Credential, address_id=address_id)
        assert credential.key_id == only_new.primary_key_id
        assert credential.ciphertext is not None
        assert only_new.decrypt(credential.ciphertext, bound_to=address_id)["refresh_token"] == f"rt-{number}"
        with pytest.raises(CiphertextRejected):
            Keyring.parse(old).decrypt(credential.ciphertext, bound_to=address_id)

    again = run_bot(empty_database, new, "rotate-keys")
    assert again.returncode == 0 and "re-encrypted 0 credentials; 3 were already under the primary key" in again.stderr


def test_credentials_no_key_can_read_are_reported_not_lost(empty_database: str) -> None:
    lost, current = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert run_bot(empty_database, current, "migrate").returncode == 0
    rows = Rows(empty_database)
    (address_id,) = seed_credentials(rows, Keyring.parse(lost), count=1)
    done = run_bot(empty_database, current, "rotate-keys")
    assert done.returncode == 1
    assert "1 credentials can't be read" in done.stderr
    assert rows.one(Credential, address_id=address_id).ciphertext is not None, "an unreadable row is left for a human"
