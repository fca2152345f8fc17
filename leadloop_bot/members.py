"""Who a Slack user is, as far as the domain cares.

The Slack handlers build a Member from `users.info`; the domain never sees Slack types.
"""

from __future__ import annotations

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
