"""`/leadloop …`: a thin router over the sub-commands."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import views
from handlers.slack.access import NOT_ADMIN, admin_member, recent_member
from leadloop_bot.errors import ValidationFailed
from leadloop_bot.locations import add_location
from leadloop_bot.members import is_admin
from leadloop_bot.services import Services
from storage import addresses as address_queries
from storage import locations as location_queries

logger = logging.getLogger(__name__)

COMMAND = "/leadloop"
_CHANNEL_REF = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>\s*$")


def register(app: Any, services: Services) -> None:
    @app.command(COMMAND)
    async def leadloop(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        # Ack first: Slack gives three seconds, and users.info + views.open still have to happen.
        await ack()
        words = (body.get("text") or "").strip().split(maxsplit=1)
        verb = words[0].lower() if words else "help"
        rest = words[1] if len(words) > 1 else ""
        if verb == "add-email":
            await open_add_email(client, services, body, prefill=rest, respond=respond)
        elif verb == "list":
            await list_addresses(services, body, respond)
        elif verb == "locations":
            await locations(client, services, body, rest, respond)
        elif verb == "help":
            await _reply(respond, "LeadLoop Bot help", views.help_blocks(support_email=services.settings.support_email))
        else:
            await _reply(
                respond,
                "Unknown command",
                views.help_blocks(support_email=services.settings.support_email, unknown=verb),
            )


async def open_add_email(
    client: AsyncWebClient, services: Services, body: dict[str, Any], *, prefill: str, respond: AsyncRespond
) -> None:
    # Showing the form changes nothing (the submission re-checks the admin afresh), so a recent
    # lookup will do; it and the locations read run together, inside Slack's 3 seconds.
    member, locations = await asyncio.gather(
        recent_member(client, services, body["team_id"], body["user_id"]), _location_choices(services, body["team_id"])
    )
    if not is_admin(member, listed_admins=services.settings.admin_ids):
        await _reply(respond, NOT_ADMIN, views.text_blocks(NOT_ADMIN))
        return
    modal = views.add_email_modal(
        prefill_email=prefill.strip()[:254],
        locations=locations,
        providers=views.provider_choices(services.configured_providers),
        channel_id=body.get("channel_id"),
    )
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=modal)
    except SlackApiError as exc:
        logger.warning("could not open the Add Email form: %s", exc.response.get("error"))
        text = "Slack didn't let me open the form in time. Please run `/leadloop add-email` again."
        await _reply(respond, text, views.text_blocks(text))


async def _location_choices(services: Services, workspace_id: str) -> list[tuple[str, str]]:
    async with services.db.reader() as session:
        names = await location_queries.location_names(session=session, workspace_id=workspace_id)
    return list(names.items())


async def list_addresses(services: Services, body: dict[str, Any], respond: AsyncRespond) -> None:
    async with services.db.reader() as session:
        addresses = await address_queries.list_addresses(session=session, workspace_id=body["team_id"])
        names = await location_queries.location_names(session=session, workspace_id=body["team_id"])
    await _reply(respond, f"{len(addresses)} outbound addresses", views.address_list_blocks(addresses, names))


async def locations(
    client: AsyncWebClient, services: Services, body: dict[str, Any], rest: str, respond: AsyncRespond
) -> None:
    words = rest.split(maxsplit=1)
    if not words:
        async with services.db.reader() as session:
            found = await location_queries.list_locations(session=session, workspace_id=body["team_id"])
        await _reply(respond, f"{len(found)} locations", views.locations_blocks(found))
        return
    if words[0].lower() != "add":
        await _reply(
            respond,
            "Usage",
            views.text_blocks("Usage: `/leadloop locations` or `/leadloop locations add NAME [#channel]`"),
        )
        return
    if await admin_member(client, services, body["user_id"]) is None:
        await _reply(respond, NOT_ADMIN, views.text_blocks(NOT_ADMIN))
        return
    argument = words[1] if len(words) > 1 else ""
    channel = _CHANNEL_REF.search(argument)
    name = argument[: channel.start()] if channel else argument
    try:
        async with services.db.session() as session:
            location = await add_location(
                session=session,
                workspace_id=body["team_id"],
                actor_id=body["user_id"],
                name=name,
                alert_channel_id=channel.group(1) if channel else None,
            )
    except ValidationFailed as failure:
        message = " ".join(failure.errors.values())
        await _reply(respond, message, views.text_blocks(f":x: {views.escape(message)}"))
        return
    where = f" Alerts for it go to <#{location.alert_channel_id}>." if location.alert_channel_id else ""
    text = f"Added the location *{views.escape(location.name)}*.{where}"
    await _reply(respond, f"Added the location {location.name}", views.text_blocks(text))


async def _reply(respond: AsyncRespond, text: str, blocks: list[Any]) -> None:
    """An ephemeral answer only the person who typed the command sees."""
    await respond(text=text, blocks=[block.to_dict() for block in blocks], response_type="ephemeral")
