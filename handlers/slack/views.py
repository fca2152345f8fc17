"""Block Kit builders for everything the bot shows in Slack, built with slack_sdk.models so limits are checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from leadloop_bot.providers import PROVIDERS, Provider
from storage.models import AddressStatus, Location, OutboundAddress

ADD_EMAIL_CALLBACK = "add_email"
CONNECT_LINK_ACTION = "connect_link"
NEW_LINK_ACTION = "new_link"
MAX_LISTED = 40

STATUS_LABELS = {
    AddressStatus.PENDING: ":hourglass_flowing_sand: Pending",
    AddressStatus.CONNECTED: ":large_blue_circle: Connected",
    AddressStatus.ACTIVE: ":large_green_circle: Active",
    AddressStatus.INVALID: ":warning: Invalid (needs reauthentication)",
}


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: no mentions, links or formatting injected (SECURITY.md B6.9)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(AddressStatus(status), status)


def add_email_modal(
    *, prefill_email: str, locations: Sequence[tuple[str, str]], providers: Sequence[Provider], channel_id: str | None
) -> dict[str, Any]:
    """The Add Email form as Slack wants it. Block ids name the fields, so domain errors map straight onto them.

    The form is built and checked with slack_sdk.models once per (locations, providers) and only
    the prefill and origin channel are filled in per request: building it costs about a
    millisecond of CPU, and it sits on the path Slack times at 3 seconds.
    """
    form = _add_email_form(tuple(locations), tuple(provider.key for provider in providers))
    blocks = list(form["blocks"])
    if prefill_email:
        email = blocks[0]
        blocks[0] = {**email, "element": {**email["element"], "initial_value": prefill_email}}
    metadata = json.dumps({"channel_id": channel_id}) if channel_id else ""
    return {**form, "blocks": blocks, "private_metadata": metadata}


@lru_cache(maxsize=256)
def _add_email_form(locations: tuple[tuple[str, str], ...], provider_keys: tuple[str, ...]) -> dict[str, Any]:
    blocks: list[Block] = [
        InputBlock(
            block_id="email",
            label="Email",
            element=PlainTextInputElement(action_id="value", placeholder="jane@acme.com", max_length=254),
            hint="The mailbox LeadLoop will send from.",
        ),
        InputBlock(
            block_id="assigned_user",
            label="Assigned User",
            element=UserSelectElement(action_id="value", placeholder="Who signs in to this mailbox?"),
            hint="They'll get a DM with a link to connect the mailbox.",
        ),
    ]
    if locations:
        blocks.append(
            InputBlock(
                block_id="location",
                label="Location",
                element=StaticSelectElement(
                    action_id="value",
                    placeholder="Office or branch",
                    options=[Option(value=location_id, label=name[:75]) for location_id, name in locations[:100]],
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id="display_name",
            label="Name",
            element=PlainTextInputElement(action_id="value", placeholder="Jane Doe", max_length=80),
            hint="Shown inside LeadLoop only.",
        ),
        InputBlock(
            block_id="provider",
            label="Provider",
            element=StaticSelectElement(
                action_id="value",
                placeholder="Mail provider",
                options=[Option(value=key, label=PROVIDERS[key].label) for key in provider_keys],
            ),
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(text="*Sharing (optional)* — a team that sends from this address together.")
        ),
        InputBlock(
            block_id="team_name",
            label="Team name",
            optional=True,
            element=PlainTextInputElement(action_id="value", placeholder="Front Desk", max_length=80),
        ),
        InputBlock(
            block_id="team_channel",
            label="Team channel",
            optional=True,
            element=ConversationSelectElement(
                action_id="value",
                placeholder="#front-desk",
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id="team_members",
            label="Team members",
            optional=True,
            element=UserMultiSelectElement(action_id="value", placeholder="Who else uses it?"),
        ),
    ]
    view = View(
        type="modal", callback_id=ADD_EMAIL_CALLBACK, title="Add email", submit="Add", close="Cancel", blocks=blocks
    )
    return view.to_dict()


def connect_request_blocks(
    *,
    address: OutboundAddress,
    provider: Provider,
    requested_by: str,
    link_url: str,
    location_name: str | None,
    problem: str | None = None,
) -> list[Block]:
    """The DM to the assigned user: what, who asked, what access and why, and the Connect button."""
    where = f" for {escape(location_name)}" if location_name else ""
    team = f", shared with the *{escape(address.team_name)}* team" if address.team_name else ""
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(problem)}")))
    blocks += [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"<@{requested_by}> asked you to connect *{escape(address.email)}* ({provider.label}) to LeadLoop "
                    f"as “{escape(address.display_name)}”{where}{team}."
                )
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*What LeadLoop gets:* permission to {provider.access_summary}. "
                    "That's how replies land in the CRM and your follow-ups go out from your own address. "
                    "It can't change your password, and you can revoke access any time "
                    f"in your {provider.label} account."
                )
            )
        ),
        ActionsBlock(
            block_id="connect",
            elements=[
                ButtonElement(
                    text=f"Connect {address.email}"[:75], action_id=CONNECT_LINK_ACTION, url=link_url, style="primary"
                ),
                ButtonElement(text="Send me a new link", action_id=NEW_LINK_ACTION, value=address.id),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Sign in as *{escape(address.email)}*. The link works once and expires in 24 hours."
                )
            ]
        ),
    ]
    return blocks


def connected_blocks(*, address: OutboundAddress, provider: Provider) -> list[Block]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: *{escape(address.email)}* is connected to LeadLoop ({provider.label})."
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=f"Status: {status_label(address.status)}")]),
    ]


def address_lines(addresses: Sequence[OutboundAddress], locations: dict[str, str]) -> list[Block]:
    """One section per address: email, name, status, assigned user, location, team."""
    blocks: list[Block] = []
    for address in addresses[:MAX_LISTED]:
        details = [status_label(address.status), f"<@{address.assigned_user_id}>"]
        if address.location_id and address.location_id in locations:
            details.append(f":round_pushpin: {escape(locations[address.location_id])}")
        if address.team_name:
            team = f":busts_in_silhouette: {escape(address.team_name)}"
            if address.team_channel_id:
                team += f" in <#{address.team_channel_id}>"
            details.append(team)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(address.email)}* — {escape(address.display_name)}\n" + " · ".join(details)
                )
            )
        )
    if len(addresses) > MAX_LISTED:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(addresses) - MAX_LISTED} more.")]))
    return blocks


def address_list_blocks(addresses: Sequence[OutboundAddress], locations: dict[str, str]) -> list[Block]:
    if not addresses:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="No outbound addresses yet. An admin can add one with `/leadloop add-email`."
                )
            )
        ]
    return [HeaderBlock(text=f"Outbound addresses ({len(addresses)})"), *address_lines(addresses, locations)]


def locations_blocks(locations: Sequence[Location]) -> list[Block]:
    if not locations:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="No locations yet. Add one with `/leadloop locations add NAME [#channel]`."
                )
            )
        ]
    lines = [
        f"• *{escape(location.name)}*"
        + (f" — alerts in <#{location.alert_channel_id}>" if location.alert_channel_id else "")
        for location in locations
    ]
    return [
        HeaderBlock(text=f"Locations ({len(locations)})"),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])),
    ]


def help_blocks(*, support_email: str, unknown: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if unknown:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"I don't know `{escape(unknown[:50])}`. Here's what I can do:"))
        )
    blocks += [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "*LeadLoop Bot* manages the email addresses LeadLoop sends from.\n"
                    "• `/leadloop add-email [address]` — add an address and ask its owner to connect it _(admins)_\n"
                    "• `/leadloop list` — every address with its status\n"
                    "• `/leadloop locations` — the offices and branches\n"
                    "• `/leadloop locations add NAME [#channel]` — add a location _(admins)_\n"
                    "• `/leadloop help` — this message"
                )
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=f"Need a hand? Write to {escape(support_email)}.")]),
    ]
    return blocks


def home_view(*, addresses: Sequence[OutboundAddress], locations: dict[str, str], viewer_is_admin: bool) -> View:
    blocks: list[Block] = [HeaderBlock(text="Your outbound addresses")]
    if addresses:
        blocks += address_lines(addresses, locations)
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No addresses are assigned to you yet.")))
    blocks.append(DividerBlock())
    hint = (
        "Add an address with `/leadloop add-email`." if viewer_is_admin else "Ask an admin to add an address for you."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{hint} See everything with `/leadloop list`.")]))
    return View(type="home", blocks=blocks)


def text_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def provider_choices(configured: frozenset[str]) -> list[Provider]:
    """Configured providers first; every provider is listed so the form explains what's missing."""
    return sorted(PROVIDERS.values(), key=lambda provider: provider.key not in configured)
