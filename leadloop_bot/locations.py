"""Locations (offices, branches) of a multi-location business."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from leadloop_bot.errors import ValidationFailed
from leadloop_bot.text import clean_line
from storage import locations as location_queries
from storage.audit import add_event
from storage.models import Location
from storage.rows import insert_unless_duplicate


async def add_location(
    *, session: AsyncSession, workspace_id: str, actor_id: str, name: str, alert_channel_id: str | None
) -> Location:
    """Stage a new location; names are unique per workspace, ignoring case."""
    clean = clean_line(name, field="name", label="Location name", max_length=80, required=True)
    assert clean is not None
    key = clean.casefold()
    if await location_queries.get_location_by_name(session=session, workspace_id=workspace_id, name_key=key):
        raise ValidationFailed({"name": f"A location called “{clean}” already exists."})
    location = Location(workspace_id=workspace_id, name=clean, name_key=key, alert_channel_id=alert_channel_id)
    if not await insert_unless_duplicate(session=session, row=location):
        raise ValidationFailed({"name": f"A location called “{clean}” already exists."})
    add_event(
        session=session,
        workspace_id=workspace_id,
        actor=actor_id,
        action="location.added",
        details={"location_id": location.id, "name": clean, "alert_channel_id": alert_channel_id},
    )
    return location
