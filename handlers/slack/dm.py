"""The connect DM: sending it, refreshing its link, and editing it in place when things change."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import views
from leadloop_bot.links import issue_link
from leadloop_bot.providers import PROVIDERS
from leadloop_bot.services import Services
from storage import addresses as address_queries
from storage import locations as location_queries
from storage.models import OutboundAddress

logger = logging.getLogger(__name__)


async def _location_name(services: Services, address: OutboundAddress) -> str | None:
    if not address.location_id:
        return None
    async with services.db.reader() as session:
        location = await location_queries.get_location(
            session=session, workspace_id=address.workspace_id, location_id=address.location_id
        )
    return location.name if location else None


async def connect_request(
    services: Services, address: OutboundAddress, *, link_url: str, problem: str | None = None
) -> tuple[str, list[dict]]:
    """Fallback text and blocks for the connect DM."""
    provider = PROVIDERS[address.provider]
    blocks = views.connect_request_blocks(
        address=address,
        provider=provider,
        requested_by=address.added_by_user_id,
        link_url=link_url,
        location_name=await _location_name(services, address),
        problem=problem,
    )
    text = f"Please connect {address.email} to LeadLoop"
    return text, [block.to_dict() for block in blocks]


async def send_connect_dm(
    client: AsyncWebClient, services: Services, address: OutboundAddress, link_url: str
) -> str | None:
    """DM the assigned user; returns a user-facing reason when Slack refused, None on success."""
    text, blocks = await connect_request(services, address, link_url=link_url)
    return await _post_dm(client, services, address, text=text, blocks=blocks)


async def update_dm(
    client: AsyncWebClient, services: Services, address: OutboundAddress, *, text: str, blocks: list[dict]
) -> None:
    """Edit the connect DM in place; if it can't be edited any more, post a new one."""
    if address.dm_channel_id and address.dm_message_ts:
        try:
            await client.chat_update(channel=address.dm_channel_id, ts=address.dm_message_ts, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            logger.info(
                "connect DM for address %s could not be edited (%s); posting a new one",
                address.id,
                exc.response.get("error"),
            )
    await _post_dm(client, services, address, text=text, blocks=blocks)


async def _post_dm(
    client: AsyncWebClient, services: Services, address: OutboundAddress, *, text: str, blocks: list[dict]
) -> str | None:
    """Post to the assigned user's DM and remember where, so later changes edit that message."""
    try:
        opened = await client.conversations_open(users=address.assigned_user_id)
        channel_id = opened["channel"]["id"]
        posted = await client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        logger.warning("could not DM the assigned user of address %s: %s", address.id, error)
        return f"Slack refused the DM ({error})"
    async with services.db.session() as session:
        stored = await address_queries.get_address(
            session=session, workspace_id=address.workspace_id, address_id=address.id
        )
        if stored is not None:
            stored.dm_channel_id, stored.dm_message_ts = channel_id, posted["ts"]
            session.add(stored)
    address.dm_channel_id, address.dm_message_ts = channel_id, posted["ts"]
    return None


async def show_connected(client: AsyncWebClient, services: Services, address: OutboundAddress) -> None:
    provider = PROVIDERS[address.provider]
    blocks = [block.to_dict() for block in views.connected_blocks(address=address, provider=provider)]
    await update_dm(client, services, address, text=f"{address.email} is connected to LeadLoop", blocks=blocks)


async def resend_link(
    client: AsyncWebClient, services: Services, address: OutboundAddress, *, actor: str, problem: str | None = None
) -> None:
    """Mint a fresh link (retiring the old one) and put it in the DM, with what went wrong if anything did."""
    async with services.db.session() as session:
        link = await issue_link(session=session, address=address, actor=actor)
    text, blocks = await connect_request(services, address, link_url=services.signer.url_for(link), problem=problem)
    await update_dm(client, services, address, text=text, blocks=blocks)
