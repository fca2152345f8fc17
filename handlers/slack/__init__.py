"""The Slack door: a bolt AsyncApp with every listener registered."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import actions, add_email, commands, errors, home, middleware
from leadloop_bot.services import Services

# Every module that registers listeners; the manifest test walks the same list.
LISTENER_MODULES = (middleware, errors, commands, add_email, actions, home)


def slack_client(services: Services) -> AsyncWebClient:
    """The Web API client; bolt copies its base URL and retry handlers into each request's client.

    Dropped connections, 429s (honouring Retry-After) and Slack's 5xx are retried twice each:
    a Slack hiccup shouldn't cost the user their action."""
    settings = services.settings
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _framework_logger() -> logging.Logger:
    """bolt logs whole response bodies at DEBUG; keep its framework logger at WARNING or above (STYLE.md)."""
    framework = logging.getLogger("slack_bolt.AsyncApp")
    framework.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    return framework


def build_bolt_app(services: Services) -> AsyncApp:
    settings = services.settings
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        request_verification_enabled=settings.slack_signing_secret is not None,
        client=slack_client(services),
        logger=_framework_logger(),
    )
    for module in LISTENER_MODULES:
        module.register(app, services)
    return app
