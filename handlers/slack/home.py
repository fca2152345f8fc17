"""The App Home tab: the viewer's own addresses and how they stand."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import views
from handlers.slack.access import recent_member
from leadloop_bot.members import is_admin
from leadloop_bot.services import Services
from storage import addresses as address_queries
from storage import locations as location_queries


def register(app: Any, services: Services) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        await publish_home(client, services, workspace_id=context.team_id, user_id=event["user"])


async def publish_home(client: AsyncWebClient, services: Services, *, workspace_id: str, user_id: str) -> None:
    async with services.db.reader() as session:
        mine = await address_queries.list_addresses_assigned_to(
            session=session, workspace_id=workspace_id, user_id=user_id
        )
        names = await location_queries.location_names(session=session, workspace_id=workspace_id)
    viewer = await recent_member(client, services, workspace_id, user_id)
    view = views.home_view(
        addresses=mine, locations=names, viewer_is_admin=is_admin(viewer, listed_admins=services.settings.admin_ids)
    )
    await client.views_publish(user_id=user_id, view=view.to_dict())
