"""The append-only audit trail."""

from __future__ import annotations

from typing import Any

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
