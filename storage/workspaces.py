"""Workspace rows: created on first contact from a Slack team."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Workspace
from storage.rows import insert_unless_duplicate


async def ensure_workspace(*, session: AsyncSession, workspace_id: str, name: str = "") -> Workspace:
    """Return the workspace, creating it if this is the first request from that team."""
    existing = await session.get(Workspace, workspace_id)
    if existing is not None:
        return existing
    workspace = Workspace(id=workspace_id, name=name)
    if await insert_unless_duplicate(session=session, row=workspace):
        return workspace
    # Another request created it between our read and write.
    found = await session.get(Workspace, workspace_id)
    assert found is not None
    return found
