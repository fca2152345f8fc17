"""The Add Email modal's submission: validate inline, store `pending`, DM the assignee, confirm to the admin."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import views
from handlers.slack.access import NOT_ADMIN, admin_member
from handlers.slack.directory import SlackMemberDirectory
from handlers.slack.dm import send_connect_dm
from leadloop_bot.addresses import AddressDraft, add_address
from leadloop_bot.errors import ValidationFailed
from leadloop_bot.links import issue_link
from leadloop_bot.members import Member
from leadloop_bot.services import Services
from storage.models import OutboundAddress

logger = logging.getLogger(__name__)


def register(app: Any, services: Services) -> None:
    @app.view(views.ADD_EMAIL_CALLBACK)
    async def submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        actor = body["user"]["id"]
        workspace_id = body["team"]["id"]
        draft = read_draft(body["view"]["state"]["values"])
        # Both lookups are fresh (an admin may have been demoted since the form opened) and run
        # together: the answer to a submission is due within Slack's 3 seconds.
        admin, assignee = await asyncio.gather(
            admin_member(client, services, actor), _lookup(SlackMemberDirectory(client), draft.assigned_user_id)
        )
        if admin is None:
            await ack(response_action="errors", errors={"email": NOT_ADMIN})
            return
        try:
            async with services.db.session() as session:
                address = await add_address(
                    session=session,
                    workspace_id=workspace_id,
                    actor_id=actor,
                    draft=draft,
                    assignee=assignee,
                    configured_providers=services.configured_providers,
                )
                link = await issue_link(session=session, address=address, actor=actor)
        except ValidationFailed as failure:
            await ack(response_action="errors", errors=failure.errors)
            return
        await ack()
        logger.info("address %s added by %s; asking %s to connect it", address.id, actor, address.assigned_user_id)
        problem = await send_connect_dm(client, services, address, services.signer.url_for(link))
        await confirm(client, actor, _origin_channel(body["view"]), address, problem)


async def _lookup(directory: SlackMemberDirectory, user_id: str | None) -> Member | None:
    return await directory.lookup(user_id) if user_id else None


def read_draft(values: dict[str, Any]) -> AddressDraft:
    """The form's state, by block id. Missing blocks (e.g. no locations) read as empty."""

    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get("value") or {}

    return AddressDraft(
        email=element("email").get("value"),
        display_name=element("display_name").get("value"),
        assigned_user_id=element("assigned_user").get("selected_user"),
        provider=(element("provider").get("selected_option") or {}).get("value"),
        location_id=(element("location").get("selected_option") or {}).get("value"),
        team_name=element("team_name").get("value"),
        team_channel_id=element("team_channel").get("selected_conversation"),
        team_member_ids=list(element("team_members").get("selected_users") or []),
    )


async def confirm(
    client: AsyncWebClient, actor: str, channel_id: str | None, address: OutboundAddress, problem: str | None
) -> None:
    """Tell the admin what happened: ephemerally where they ran the command, else by DM."""
    if problem:
        text = (
            f":warning: Added *{views.escape(address.email)}* (Pending), "
            f"but I couldn't DM <@{address.assigned_user_id}>: "
            f"{views.escape(problem)}. They can still be sent a link once Slack lets me message them."
        )
    else:
        text = (
            f":white_check_mark: Added *{views.escape(address.email)}* (Pending). "
            f"I've sent <@{address.assigned_user_id}> a DM with a link to connect it."
        )
    blocks = [block.to_dict() for block in views.text_blocks(text)]
    fallback = f"Added {address.email}"
    if channel_id:
        try:
            await client.chat_postEphemeral(channel=channel_id, user=actor, text=fallback, blocks=blocks)
            return
        except SlackApiError as exc:
            logger.info("ephemeral confirmation failed (%s); sending it by DM", exc.response.get("error"))
    try:
        opened = await client.conversations_open(users=actor)
        await client.chat_postMessage(channel=opened["channel"]["id"], text=fallback, blocks=blocks)
    except SlackApiError as exc:
        logger.warning("could not confirm the new address to its admin: %s", exc.response.get("error"))


def _origin_channel(view: dict[str, Any]) -> str | None:
    """The channel the command was typed in. It comes back from the client, so only a channel-id shape is accepted."""
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel_id")
    except (ValueError, AttributeError):
        return None
    return channel if isinstance(channel, str) and channel[:1] in {"C", "G", "D"} and channel.isalnum() else None
