"""What a person sees when a listener fails unexpectedly: a plain apology, never a stack trace or a secret."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.slack import views
from leadloop_bot.services import Services

logger = logging.getLogger(__name__)


def register(app: Any, services: Services) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("a Slack listener failed: %s", type(error).__name__, exc_info=error)
        response_url = body.get("response_url")
        if not response_url:
            return
        text = (
            "Sorry, something went wrong on our side and nothing was changed. "
            f"Please try again in a minute; if it keeps happening, write to {services.settings.support_email}."
        )
        await AsyncWebhookClient(response_url).send(
            text=text,
            blocks=[block.to_dict() for block in views.text_blocks(views.escape(text))],
            response_type="ephemeral",
        )
