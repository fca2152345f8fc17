"""The append-only audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


def add_event(
    *,
    session: AsyncSession,
    workspace_id: str,
    actor: str,
    action: str,
    address_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Stage an event in the caller's transaction, so it commits (or not) with the change it records."""
    event = AuditEvent(
        workspace_id=workspace_id, actor=actor, action=action, address_id=address_id, details=details or {}
    )
    session.add(event)
    return event


async def list_events(
    *, session: AsyncSession, workspace_id: str, address_id: str | None = None, limit: int = 100
) -> Sequence[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    if address_id is not None:
        statement = statement.where(AuditEvent.address_id == address_id)
    statement = statement.order_by(col(AuditEvent.id).desc()).limit(limit)
    return (await session.exec(statement)).all()
