"""The baseline for bench.ack_latency: a bare bolt AsyncApp whose `/leadloop` only acks and opens a fixed modal.

Served the way bot.py serves the real app (Starlette + AsyncSlackRequestHandler under uvicorn, no log config,
no access log), so the difference between the two is what LeadLoop Bot itself adds. NOOP_PATH answers 200 and
does nothing else: timing it gives the floor that the load generator, uvicorn and Starlette set on their own.

    SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... SLACK_API_URL=http://127.0.0.1:N/api/ PORT=M python -m bench.bare_app
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

NOOP_PATH = "/noop"
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "bare",
    "title": {"type": "plain_text", "text": "Bare modal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "email",
            "label": {"type": "plain_text", "text": "Email"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def build_bolt_app(signing_secret: str, token: str, api_url: str) -> AsyncApp:
    app = AsyncApp(signing_secret=signing_secret, token=token, client=AsyncWebClient(token=token, base_url=api_url))

    @app.command("/leadloop")
    async def leadloop(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    return app


def build_asgi_app(bolt: AsyncApp) -> Starlette:
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def noop(request: Request) -> Response:
        await request.body()
        return PlainTextResponse("")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route(NOOP_PATH, noop, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main() -> None:
    bolt = build_bolt_app(
        os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"]
    )
    port = int(os.environ["PORT"])
    uvicorn.run(build_asgi_app(bolt), host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
