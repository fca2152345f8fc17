"""Re-encrypting stored credentials under the newest key, so an old key can be retired.

Run `python bot.py rotate-keys` after putting a new key first in ENCRYPTION_KEYS; once it reports
nothing left under an older key, that key can be removed (Keystone's rule: retire a key only
when no row references it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import col, select

from leadloop_bot.crypto import CiphertextRejected, Keyring
from storage.db import Database
from storage.models import Credential, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RotationReport:
    rotated: int
    already_current: int
    unreadable: list[str]


async def rotate_credentials(db: Database, keyring: Keyring) -> RotationReport:
    """Re-encrypt every credential not yet under the primary key, one row per transaction."""
    async with db.reader() as session:
        stale = (
            await session.exec(
                select(Credential.address_id).where(
                    col(Credential.ciphertext).is_not(None), col(Credential.key_id) != keyring.primary_key_id
                )
            )
        ).all()
        current = len(
            (await session.exec(select(Credential.address_id).where(Credential.key_id == keyring.primary_key_id))).all()
        )
    rotated, unreadable = 0, []
    for address_id in stale:
        async with db.session() as session:
            credential = await session.get(Credential, address_id, with_for_update=True)
            if credential is None or credential.ciphertext is None or credential.key_id == keyring.primary_key_id:
                continue
            try:
                secret = keyring.decrypt(credential.ciphertext, bound_to=credential.address_id)
            except CiphertextRejected:
                unreadable.append(address_id)
                continue
            credential.ciphertext = keyring.encrypt(secret, bound_to=credential.address_id)
            credential.key_id = keyring.primary_key_id
            credential.updated_at = utcnow()
            session.add(credential)
            rotated += 1
    if unreadable:
        logger.warning(
            "%d credentials can't be read with any configured key; those addresses need reconnecting", len(unreadable)
        )
    return RotationReport(rotated=rotated, already_current=current, unreadable=unreadable)
