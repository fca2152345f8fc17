"""/oauth/start/{token} and /oauth/callback/{provider}: thin routes over leadloop_bot.oauth.

GET of a link only shows a page (Slack's unfurler and mail scanners fetch links); the POST
from its Continue button is what spends the link and redirects to the provider.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import dm
from handlers.slack.home import publish_home
from leadloop_bot.errors import ConnectError, StateRejected
from leadloop_bot.links import resolve_link
from leadloop_bot.oauth import STATE_LIFETIME, ConnectFailed
from leadloop_bot.providers import PROVIDERS, get_provider
from leadloop_bot.services import Services

logger = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def browser_cookie_name(services: Services) -> str:
    """`__Host-` needs Secure, which browsers only honour over https (ASVS 3.3.1)."""
    return "__Host-leadloop_browser" if services.settings.secure_cookies else "leadloop_browser"


def build_router(services: Services, slack: AsyncWebClient | None) -> APIRouter:
    router = APIRouter()
    cookie = browser_cookie_name(services)

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("support_email", services.settings.support_email)
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    def problem(request: Request, error: ConnectError, *, new_link_in: str | None = None) -> HTMLResponse:
        """The error page; `new_link_in` names the workspace whose DM now holds a fresh link."""
        message = error.message
        if new_link_in:
            message += " Your Slack DM from LeadLoop Bot now has a fresh link to try again."
        return page(
            request,
            "connect_result.html",
            error.status_code,
            ok=False,
            heading="That didn't work",
            message=message,
            slack_url=f"slack://open?team={new_link_in}" if new_link_in else None,
        )

    @router.get("/oauth/start/{token}", response_class=HTMLResponse)
    async def landing(request: Request, token: str) -> Response:
        try:
            async with services.db.reader() as session:
                resolved = await resolve_link(session=session, signer=services.signer, token=token)
        except ConnectError as error:
            return problem(request, error)
        provider = PROVIDERS[resolved.address.provider]
        return page(request, "connect_landing.html", address=resolved.address, provider=provider, token=token)

    @router.post("/oauth/start/{token}")
    async def begin(request: Request, token: str) -> Response:
        try:
            begun = await services.connect.begin(token=token, browser_secret=request.cookies.get(cookie))
        except ConnectError as error:
            return problem(request, error)
        response = RedirectResponse(begun.authorization_url, status_code=303)
        response.set_cookie(
            cookie,
            begun.browser_secret,
            max_age=int(STATE_LIFETIME.total_seconds()),
            path="/" if cookie.startswith("__Host-") else "/oauth",
            secure=services.settings.secure_cookies,
            httponly=True,
            samesite="lax",  # the provider's redirect back is a cross-site top-level GET
        )
        return response

    @router.get("/oauth/callback/{provider}", response_class=HTMLResponse)
    async def callback(request: Request, provider: str) -> Response:
        if get_provider(provider) is None:
            return page(
                request,
                "connect_result.html",
                404,
                ok=False,
                heading="Unknown provider",
                message="There's no such sign-in provider here.",
                slack_url=None,
            )
        try:
            connected = await services.connect.finish(
                provider_key=provider, params=dict(request.query_params), browser_secret=request.cookies.get(cookie)
            )
        except StateRejected as error:
            logger.info("refused an OAuth callback for %s: %s", provider, error.reason)
            return problem(request, error)
        except ConnectFailed as failed:
            logger.info("connect attempt failed: %s", failed.error.reason)
            if slack is None or failed.address is None:
                return problem(request, failed.error)
            await _offer_new_link(slack, services, failed)
            return problem(request, failed.error, new_link_in=failed.address.workspace_id)
        address = connected.address
        if slack is not None:
            await _notify(dm.show_connected(slack, services, address))
            await _notify(
                publish_home(slack, services, workspace_id=address.workspace_id, user_id=address.assigned_user_id)
            )
        return page(
            request,
            "connect_result.html",
            ok=True,
            heading=f"{address.email} is connected",
            message=f"LeadLoop can now send from {address.email}. The message in Slack has been updated too.",
            slack_url=f"slack://open?team={address.workspace_id}",
        )

    return router


async def _offer_new_link(slack: AsyncWebClient, services: Services, failed: ConnectFailed) -> None:
    address = failed.address
    assert address is not None
    await _notify(
        dm.resend_link(
            slack,
            services,
            address,
            actor="system:connect",
            problem=f"The last sign-in didn't work: {failed.error.message}",
        )
    )


async def _notify(work: Any) -> None:
    """Slack being down must not turn a finished connection into an error page."""
    try:
        await work
    except SlackApiError as exc:
        logger.warning("could not update Slack after a connect attempt: %s", exc.response.get("error"))
