"""Connect links and OAuth attempts: the single-use rows behind the connect flow.

Claiming is one conditional UPDATE (`… WHERE used_at IS NULL`), so two concurrent requests
can never both use the same link or state, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConnectLink, OAuthAttempt, ProcessedDelivery


async def get_link(*, session: AsyncSession, link_id: str) -> ConnectLink | None:
    return await session.get(ConnectLink, link_id)


async def claim_link(*, session: AsyncSession, link_id: str, now: datetime) -> bool:
    """Mark the link used; False if it was already used or has expired."""
    result = await session.exec(
        update(ConnectLink)
        .where(col(ConnectLink.id) == link_id, col(ConnectLink.used_at).is_(None), col(ConnectLink.expires_at) > now)
        .values(used_at=now)
    )
    return bool(result.rowcount == 1)


async def retire_links(*, session: AsyncSession, address_id: str, now: datetime) -> None:
    """Spend every outstanding link for an address, so only the newest one DMed works."""
    await session.exec(
        update(ConnectLink)
        .where(col(ConnectLink.address_id) == address_id, col(ConnectLink.used_at).is_(None))
        .values(used_at=now)
    )


async def get_attempt_by_state(*, session: AsyncSession, state_hash: str) -> OAuthAttempt | None:
    statement = select(OAuthAttempt).where(OAuthAttempt.state_hash == state_hash)
    return (await session.exec(statement)).first()


async def claim_attempt(*, session: AsyncSession, attempt_id: str, now: datetime) -> bool:
    """Mark the state used before the code is exchanged (RFC 9700 §4.2.4: invalidate after first use)."""
    result = await session.exec(
        update(OAuthAttempt)
        .where(
            col(OAuthAttempt.id) == attempt_id,
            col(OAuthAttempt.used_at).is_(None),
            col(OAuthAttempt.expires_at) > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount == 1)


async def purge_before(
    *, session: AsyncSession, expired_before: datetime, delivered_before: datetime
) -> dict[str, int]:
    """Delete spent single-use rows: attempts and links that expired before `expired_before`,
    and Slack delivery ids older than `delivered_before`. Attempts go first (they reference links)."""
    attempts = await session.exec(delete(OAuthAttempt).where(col(OAuthAttempt.expires_at) < expired_before))
    links = await session.exec(
        delete(ConnectLink).where(
            col(ConnectLink.expires_at) < expired_before,
            ~col(ConnectLink.id).in_(select(OAuthAttempt.link_id)),
        )
    )
    deliveries = await session.exec(
        delete(ProcessedDelivery).where(col(ProcessedDelivery.received_at) < delivered_before)
    )
    return {
        "oauth_attempts": attempts.rowcount,
        "connect_links": links.rowcount,
        "slack_deliveries": deliveries.rowcount,
    }
