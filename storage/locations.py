"""Location queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Location


async def list_locations(*, session: AsyncSession, workspace_id: str) -> Sequence[Location]:
    statement = select(Location).where(Location.workspace_id == workspace_id).order_by(col(Location.name_key))
    return (await session.exec(statement)).all()


async def get_location(*, session: AsyncSession, workspace_id: str, location_id: str) -> Location | None:
    statement = select(Location).where(Location.workspace_id == workspace_id, Location.id == location_id)
    return (await session.exec(statement)).first()


async def get_location_by_name(*, session: AsyncSession, workspace_id: str, name_key: str) -> Location | None:
    statement = select(Location).where(Location.workspace_id == workspace_id, Location.name_key == name_key)
    return (await session.exec(statement)).first()


async def location_names(*, session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """Location id → name, for rendering lists."""
    return {location.id: location.name for location in await list_locations(session=session, workspace_id=workspace_id)}
