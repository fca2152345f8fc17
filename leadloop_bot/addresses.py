"""Adding an outbound address: validate every field, then store it `pending` in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email
from sqlmodel.ext.asyncio.session import AsyncSession

from leadloop_bot.errors import ValidationFailed
from leadloop_bot.members import Member
from leadloop_bot.providers import get_provider
from leadloop_bot.text import clean_line
from storage import addresses as address_queries
from storage import locations as location_queries
from storage.audit import add_event
from storage.models import AddressStatus, OutboundAddress
from storage.rows import insert_unless_duplicate

MAX_TEAM_MEMBERS = 50
T = TypeVar("T")


@dataclass
class AddressDraft:
    """What the admin typed into the Add Email form, before validation."""

    email: str | None
    display_name: str | None
    assigned_user_id: str | None
    provider: str | None
    location_id: str | None = None
    team_name: str | None = None
    team_channel_id: str | None = None
    team_member_ids: list[str] = field(default_factory=list)


def canonical_email(raw: str | None) -> str:
    """The one stored form of an address: syntax-checked, ASCII only, lower-case.

    Non-ASCII addresses are refused rather than normalised: a look-alike such as `gmaіl.com`
    (Cyrillic і) must not pass for the real domain. Mailbox providers treat the whole address
    case-insensitively, so lower-casing it makes duplicates visible.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed({"email": "Enter the email address LeadLoop should send from."})
    if len(text) > 254:
        raise ValidationFailed({"email": "That address is too long (254 characters at most)."})
    if not text.isascii():
        raise ValidationFailed(
            {"email": "Use the plain (ASCII) form of the address; look-alike characters aren't allowed."}
        )
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False, allow_quoted_local=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": f"That isn't a valid email address: {exc}"}) from exc
    return result.normalized.lower()


async def add_address(
    *,
    session: AsyncSession,
    workspace_id: str,
    actor_id: str,
    draft: AddressDraft,
    assignee: Member | None,
    configured_providers: frozenset[str],
) -> OutboundAddress:
    """Validate `draft` and stage the new `pending` address plus its audit event.

    Every field is checked before anything is written, and all errors are reported at once,
    so the admin fixes the form in one go. Raises ValidationFailed (nothing staged) on any error.
    """
    errors: dict[str, str] = {}
    email = _collect(errors, lambda: canonical_email(draft.email))
    display_name = _collect(
        errors, lambda: clean_line(draft.display_name, field="display_name", label="Name", max_length=80, required=True)
    )
    team_name = _collect(
        errors, lambda: clean_line(draft.team_name, field="team_name", label="Team name", max_length=80, required=False)
    )
    _check_assignee(errors, workspace_id=workspace_id, assigned_user_id=draft.assigned_user_id, assignee=assignee)
    _check_provider(errors, draft.provider, configured_providers)
    if draft.location_id and not await location_queries.get_location(
        session=session, workspace_id=workspace_id, location_id=draft.location_id
    ):
        errors["location"] = "That location no longer exists. Pick another, or add it with `/leadloop locations add`."
    if (draft.team_channel_id or draft.team_member_ids) and not team_name:
        errors.setdefault("team_name", "Give the team a name when you share the address with a channel or members.")
    if len(draft.team_member_ids) > MAX_TEAM_MEMBERS:
        errors["team_members"] = f"A team can have at most {MAX_TEAM_MEMBERS} members."
    if isinstance(email, str) and await address_queries.get_address_by_email(
        session=session, workspace_id=workspace_id, email=email
    ):
        errors["email"] = f"{email} is already set up in this workspace."
    if errors:
        raise ValidationFailed(errors)
    assert email and display_name and draft.assigned_user_id and draft.provider  # all checked above

    address = OutboundAddress(
        workspace_id=workspace_id,
        email=email,
        display_name=display_name,
        assigned_user_id=draft.assigned_user_id,
        added_by_user_id=actor_id,
        location_id=draft.location_id or None,
        provider=draft.provider,
        team_name=team_name,
        team_channel_id=draft.team_channel_id or None,
        team_member_ids=sorted(set(draft.team_member_ids)),
        status=AddressStatus.PENDING,
    )
    if not await insert_unless_duplicate(session=session, row=address):
        # Another admin added the same address a moment ago; the unique constraint caught it.
        raise ValidationFailed({"email": f"{email} is already set up in this workspace."})
    add_event(
        session=session,
        workspace_id=workspace_id,
        actor=actor_id,
        action="address.added",
        address_id=address.id,
        details={
            "email": address.email,
            "provider": address.provider,
            "assigned_user_id": address.assigned_user_id,
            "location_id": address.location_id,
            "team_name": address.team_name,
        },
    )
    return address


def _collect(errors: dict[str, str], produce: Callable[[], T]) -> T | None:
    """Run one field's validation, folding its error into `errors` so all fields are checked."""
    try:
        return produce()
    except ValidationFailed as failure:
        errors.update(failure.errors)
        return None


def _check_assignee(
    errors: dict[str, str], *, workspace_id: str, assigned_user_id: str | None, assignee: Member | None
) -> None:
    if not assigned_user_id:
        errors["assigned_user"] = "Choose who will connect this mailbox."
    elif assignee is None:
        errors["assigned_user"] = "That user isn't in this workspace."
    elif assignee.is_bot:
        errors["assigned_user"] = "Bots can't connect a mailbox. Choose a person."
    elif assignee.deleted:
        errors["assigned_user"] = "That account is deactivated. Choose an active member."
    elif not assignee.belongs_to(workspace_id):
        errors["assigned_user"] = "That user isn't a member of this workspace."


def _check_provider(errors: dict[str, str], provider_key: str | None, configured: frozenset[str]) -> None:
    provider = get_provider(provider_key or "")
    if provider is None:
        errors["provider"] = "Choose the mail provider."
    elif provider.key not in configured:
        errors["provider"] = (
            f"{provider.label} isn't set up on this LeadLoop Bot yet. "
            f"Ask your operator to configure {provider.key.upper()}_CLIENT_ID and {provider.key.upper()}_CLIENT_SECRET."
        )
