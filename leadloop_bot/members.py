"""Who a Slack user is, as far as the domain cares.

The Slack handlers build a Member from `users.info`; the domain never sees Slack types.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    user_id: str
    team_id: str | None
    name: str
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    is_owner: bool = False
    is_external: bool = False

    def belongs_to(self, workspace_id: str) -> bool:
        """A real, active human of this workspace (not a bot, not deactivated, not a guest from elsewhere)."""
        return not self.is_bot and not self.deleted and not self.is_external and self.team_id in (None, workspace_id)


def is_admin(member: Member | None, *, listed_admins: frozenset[str]) -> bool:
    """Workspace admins and owners, plus the users the operator lists in ADMIN_USER_IDS."""
    if member is None or member.deleted or member.is_bot:
        return False
    return member.is_admin or member.is_owner or member.user_id in listed_admins


class RecentMembers:
    """Member lookups kept for a short while, shared by concurrent callers (single flight).

    For read-only decisions only, such as whether to show the Add Email form: Slack rate-limits
    `users.info`, and a burst of commands from one admin then needs one lookup, not one each.
    Everything that changes data looks the member up afresh, so a demotion still takes effect
    at once where it matters.
    """

    def __init__(self, *, ttl_seconds: float = 60.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, asyncio.Future[Member | None]]] = {}

    async def get(self, workspace_id: str, user_id: str, load: Callable[[], Awaitable[Member | None]]) -> Member | None:
        key = (workspace_id, user_id)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if len(self._entries) >= self._max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            entry = (now + self._ttl, asyncio.ensure_future(load()))
            self._entries[key] = entry
        try:
            return await asyncio.shield(entry[1])
        except Exception:
            # A failed lookup is not remembered; the next caller asks again.
            if self._entries.get(key) is entry:
                del self._entries[key]
            raise
