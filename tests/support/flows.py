"""What a person does, step by step, as test helpers: open the form, fill it, follow the DM link."""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from storage.models import OutboundAddress
from tests.fakes.slack_api import Call
from tests.peers.oidc_provider import sign_in
from tests.support.db import Rows
from tests.support.slack_requests import form_values
from tests.support.stack import ADMIN_ID, Stack


def unique_email(prefix: str = "rep") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@acme.example"


def trigger_of(response: httpx.Response) -> str:
    return parse_qs(response.request.content.decode())["trigger_id"][0]


def response_key_of(response: httpx.Response) -> str:
    return parse_qs(response.request.content.decode())["response_url"][0].rsplit("/", 1)[1]


def replies(stack: Stack, response: httpx.Response, *, count: int = 1) -> list[Call]:
    """The ephemeral answers sent to the response_url of the command that produced `response`."""
    key = response_key_of(response)
    return stack.slack.wait_for("response_url", lambda call: call.params["key"] == key, count=count)


def open_form(stack: Stack, *, user_id: str = ADMIN_ID, text: str = "add-email") -> dict[str, Any]:
    """Run `/leadloop add-email …` and return the modal the bot opened."""
    response = stack.requests().command(text, user_id=user_id)
    assert response.status_code == 200, response.text
    trigger = trigger_of(response)
    call = stack.slack.wait_for("views.open", lambda c: c.params.get("trigger_id") == trigger)[0]
    assert call.error is None, call.error
    view = dict(call.params["view"])
    view.setdefault("id", f"V{uuid.uuid4().hex[:8].upper()}")
    return view


def submit_form(stack: Stack, view: dict[str, Any], *, user_id: str = ADMIN_ID, **fields: Any) -> httpx.Response:
    return stack.requests().view_submission(view, form_values(view, **fields), user_id=user_id)


def errors_of(response: httpx.Response) -> dict[str, str]:
    """The inline field errors the bot answered a submission with ({} when it accepted)."""
    assert response.status_code == 200, response.text
    if not response.content:
        return {}
    body = response.json()
    assert body.get("response_action") == "errors", body
    return body["errors"]


@dataclass
class AddedAddress:
    email: str
    row: OutboundAddress
    dm: Call

    @property
    def connect_url(self) -> str:
        return connect_url_of(self.dm.params["blocks"])


def connect_url_of(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "connect_link":
                return str(element["url"])
    raise AssertionError(f"no Connect button in {json.dumps(blocks)[:500]}")


def dm_to(stack: Stack, user_id: str, email: str, *, count: int = 1) -> list[Call]:
    """chat.postMessage calls into `user_id`'s DM that mention `email`."""
    channel = f"D{user_id}"

    def matches(call: Call) -> bool:
        return call.params.get("channel") == channel and email.lower() in json.dumps(call.params.get("blocks"))

    return stack.slack.wait_for("chat.postMessage", matches, count=count)


def add_address(
    stack: Stack,
    rows: Rows,
    *,
    email: str | None = None,
    assignee: str = "UJANE",
    provider: str = "google",
    **fields: Any,
) -> AddedAddress:
    """The whole Add flow as an admin does it; returns the stored row and the DM the assignee got."""
    email = email or unique_email()
    view = open_form(stack)
    response = submit_form(
        stack,
        view,
        email=email,
        assigned_user=assignee,
        display_name=fields.pop("display_name", "Jane Doe"),
        provider=provider,
        **fields,
    )
    assert errors_of(response) == {}
    dm = dm_to(stack, assignee, email)[0]
    return AddedAddress(email=email.lower(), row=stored_with_dm(rows, email.lower()), dm=dm)


def stored_with_dm(rows: Rows, email: str, timeout: float = 5.0) -> OutboundAddress:
    """The address row once the bot has recorded where its DM went (it does so just after posting)."""
    deadline = time.monotonic() + timeout
    while True:
        row = rows.one(OutboundAddress, email=email)
        if row.dm_message_ts or time.monotonic() > deadline:
            return row
        time.sleep(0.02)


@dataclass
class Browser:
    """One person's browser: its own cookie jar, never following redirects on its own."""

    client: httpx.Client

    @classmethod
    def new(cls) -> Browser:
        return cls(httpx.Client(follow_redirects=False, timeout=10))

    def continue_from(self, link: str) -> httpx.Response:
        """Press Continue on the link's landing page."""
        return self.client.post(link)

    def authorize(self, link: str, *, login: str, consent: bool = True) -> str:
        """From the DM link to the provider's redirect back: returns the callback URL, not yet requested."""
        landing = self.client.get(link)
        assert landing.status_code == 200, landing.text
        started = self.continue_from(link)
        assert started.status_code == 303, started.text
        return sign_in(self.client, started.headers["location"], login=login, consent=consent)

    def callback(self, url: str) -> httpx.Response:
        return self.client.get(url)


def with_query(url: str, **changes: str | None) -> str:
    """The same callback URL with some query parameters replaced or (None) removed."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return parts._replace(query=httpx.QueryParams(query).__str__()).geturl()


def page_text(response: httpx.Response) -> str:
    """The visible words of an HTML page, whitespace folded."""
    text = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
