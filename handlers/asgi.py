"""The one ASGI app: Slack at /slack/events, the connect pages at /oauth/*, health at /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from handlers.slack import build_bolt_app
from handlers.web.connect import build_router
from handlers.web.security import SecurityHeaders
from leadloop_bot.housekeeping import build_scheduler
from leadloop_bot.services import Services

logger = logging.getLogger(__name__)

SLACK_NOT_CONFIGURED = (
    "Slack isn't configured: create the app from manifest.yml, then set SLACK_BOT_TOKEN and "
    "SLACK_SIGNING_SECRET (and SLACK_APP_TOKEN for Socket Mode). See the README."
)


def create_app(services: Services) -> FastAPI:
    settings = services.settings
    bolt = build_bolt_app(services) if settings.slack_bot_token else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler = build_scheduler(services.db)
        scheduler.start()
        slack_http = _share_one_http_session(bolt)
        socket_mode = None
        if bolt is not None and settings.slack_app_token is not None:
            socket_mode = SocketMode(bolt, settings.slack_app_token.get_secret_value())
            socket_mode.start()
        try:
            yield
        finally:
            if socket_mode is not None:
                await socket_mode.stop()
            scheduler.shutdown(wait=False)
            if slack_http is not None:
                await slack_http.close()
            await services.close()

    app = FastAPI(title="LeadLoop Bot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "web" / "static")), name="static")
    app.include_router(build_router(services, bolt.client if bolt else None))

    slack_handler = AsyncSlackRequestHandler(bolt) if bolt and settings.slack_signing_secret else None

    @app.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        if slack_handler is None:
            return PlainTextResponse(SLACK_NOT_CONFIGURED, status_code=503)
        if not _plausible_timestamp(request.headers.get("x-slack-request-timestamp")):
            # bolt's verifier calls int() on it and would answer a garbage header with a 500.
            return PlainTextResponse("invalid request", status_code=401)
        return await slack_handler.handle(request)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            async with services.db.reader() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception:  # noqa: BLE001 - a health probe reports any database failure as unhealthy
            logger.exception("health check: database unreachable")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok", "slack": bolt is not None})

    return app


def _share_one_http_session(bolt: AsyncApp | None) -> aiohttp.ClientSession | None:
    """Without a session slack_sdk opens a new one (and a new TLS connection) for every Web API call;
    bolt copies this one into each request's client, so connections to Slack are reused."""
    if bolt is None:
        return None
    session = aiohttp.ClientSession()
    bolt.client.session = session
    return session


def _plausible_timestamp(value: str | None) -> bool:
    """Slack sends Unix seconds; anything else can't carry a valid signature."""
    return value is not None and 0 < len(value) <= 12 and value.isascii() and value.isdigit()


class SocketMode:
    """Socket Mode in the background: it retries until Slack answers, and must never hold up HTTP start-up."""

    def __init__(self, bolt: AsyncApp, app_token: str) -> None:
        self._handler = AsyncSocketModeHandler(bolt, app_token)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="slack-socket-mode")

    async def _connect(self) -> None:
        try:
            await self._handler.connect_async()
        except (SlackApiError, OSError) as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            logger.error("Socket Mode could not connect (%s); HTTP mode still works", reason)
            return
        logger.info("connected to Slack over Socket Mode")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._handler.close_async()
