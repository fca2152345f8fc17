"""Global bolt middleware: one workspace per bot token, each Slack delivery handled once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import IntegrityError

from leadloop_bot.services import Services
from storage.models import ProcessedDelivery
from storage.workspaces import ensure_workspace

logger = logging.getLogger(__name__)

Next = Callable[[], Awaitable[None]]


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one Slack delivery across its retries (events and custom-step executions)."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    event = body.get("event") or {}
    if event.get("function_execution_id"):
        return f"function:{event['function_execution_id']}"
    return None


def register(app: Any, services: Services) -> None:
    known_workspaces: set[str] = set()

    @app.middleware
    async def only_our_workspace(context: AsyncBoltContext, body: dict[str, Any], next: Next) -> BoltResponse | None:
        """A single-workspace install serves the team its token belongs to, and no other (ASVS 8.4.1)."""
        authorized = context.authorize_result
        team_id = context.team_id
        if authorized is not None and authorized.team_id and team_id and team_id != authorized.team_id:
            logger.warning("refused a request from workspace %s, which this bot is not installed in", team_id)
            return BoltResponse(status=403, body="This workspace isn't connected to this LeadLoop Bot.")
        if team_id and team_id not in known_workspaces:
            async with services.db.session() as session:
                await ensure_workspace(session=session, workspace_id=team_id)
            known_workspaces.add(team_id)
        await next()
        return None

    @app.middleware
    async def once_per_delivery(body: dict[str, Any], next: Next) -> BoltResponse | None:
        """Slack retries an event it thinks timed out (X-Slack-Retry-Num); bolt doesn't de-duplicate, so we do."""
        key = delivery_key(body)
        if key is None:
            await next()
            return None
        try:
            async with services.db.session() as session:
                session.add(ProcessedDelivery(key=key))
        except IntegrityError:
            logger.info("skipped a repeated Slack delivery %s", key)
            return BoltResponse(status=200, body="")
        await next()
        return None
