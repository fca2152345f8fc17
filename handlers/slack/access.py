"""Who may do what: checked on the server for every entry point, not only by hiding buttons."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.directory import SlackMemberDirectory
from leadloop_bot.members import Member, is_admin
from leadloop_bot.services import Services

NOT_ADMIN = "Only workspace admins (and the users your operator lists in ADMIN_USER_IDS) can do that."


async def admin_member(client: AsyncWebClient, services: Services, user_id: str) -> Member | None:
    """The member if they are an admin right now, else None: asked afresh, for anything that changes data."""
    member = await SlackMemberDirectory(client).lookup(user_id)
    return member if is_admin(member, listed_admins=services.settings.admin_ids) else None


async def recent_member(client: AsyncWebClient, services: Services, workspace_id: str, user_id: str) -> Member | None:
    """The member as Slack described them within the last minute: for showing things, never for changing them."""
    return await services.recent_members.get(
        workspace_id, user_id, lambda: SlackMemberDirectory(client).lookup(user_id)
    )
