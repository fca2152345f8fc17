"""Members of the workspace, looked up with `users.info`."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from leadloop_bot.members import Member


class SlackMemberDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def lookup(self, user_id: str) -> Member | None:
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in {"user_not_found", "user_not_visible"}:
                return None
            raise
        user = response["user"]
        return Member(
            user_id=user["id"],
            team_id=user.get("team_id"),
            name=user.get("real_name") or user.get("name") or user["id"],
            is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            is_admin=bool(user.get("is_admin")),
            is_owner=bool(user.get("is_owner") or user.get("is_primary_owner")),
            is_external=bool(user.get("is_stranger")),
        )
