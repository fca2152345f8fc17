"""Buttons in the connect DM."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import views
from handlers.slack.access import admin_member
from handlers.slack.dm import resend_link
from leadloop_bot.services import Services
from storage import addresses as address_queries
from storage.models import AddressStatus


def register(app: Any, services: Services) -> None:
    @app.action(views.CONNECT_LINK_ACTION)
    async def link_opened(ack: AsyncAck) -> None:
        """A URL button still sends an interaction; ack it so Slack shows no warning. The link does the work."""
        await ack()

    @app.action(views.NEW_LINK_ACTION)
    async def new_link(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with services.db.reader() as session:
            # The id comes back from the client: look it up inside the caller's own workspace only.
            address = await address_queries.get_address(
                session=session, workspace_id=body["team"]["id"], address_id=str(action.get("value", ""))
            )
        if address is None:
            await _tell(respond, "That address no longer exists.")
            return
        if user_id != address.assigned_user_id and await admin_member(client, services, user_id) is None:
            await _tell(respond, "Only the person this address is assigned to (or an admin) can ask for a new link.")
            return
        if address.status in (AddressStatus.CONNECTED, AddressStatus.ACTIVE):
            await _tell(respond, f"{address.email} is already connected; no new link is needed.")
            return
        await resend_link(client, services, address, actor=user_id)


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(
        text=text,
        blocks=[block.to_dict() for block in views.text_blocks(views.escape(text))],
        response_type="ephemeral",
        replace_original=False,
    )
