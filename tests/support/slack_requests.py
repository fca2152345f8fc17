"""Requests shaped and signed exactly as Slack sends them, posted into the real app over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.slack_api import FakeSlack


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackRequests:
    """Builds and posts signed Slack deliveries to the app's /slack/events."""

    app_url: str
    signing_secret: str
    team_id: str
    slack: FakeSlack  # mints trigger_ids and response_urls, as Slack does

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature if signature is not None else sign(self.signing_secret, stamp, body),
            **(headers or {}),
        }
        return httpx.post(f"{self.app_url}/slack/events", content=body, headers=sent_headers, timeout=10)

    def command_body(
        self, text: str, *, user_id: str, channel_id: str = "C0GENERAL", team_id: str | None = None
    ) -> bytes:
        trigger = self.slack.new_trigger_id()
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": team_id or self.team_id,
                "team_domain": "acme",
                "channel_id": channel_id,
                "channel_name": "general",
                "user_id": user_id,
                "user_name": user_id.lower(),
                "command": "/leadloop",
                "text": text,
                "api_app_id": "A0LEADLOOP",
                "is_enterprise_install": "false",
                "response_url": self.slack.response_url(uuid.uuid4().hex),
                "trigger_id": trigger,
            }
        ).encode()

    def command(
        self, text: str, *, user_id: str, channel_id: str = "C0GENERAL", team_id: str | None = None
    ) -> httpx.Response:
        return self.post(
            self.command_body(text, user_id=user_id, channel_id=channel_id, team_id=team_id),
            "application/x-www-form-urlencoded",
        )

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def view_submission(
        self, view: dict[str, Any], values: dict[str, Any], *, user_id: str, team_id: str | None = None
    ) -> httpx.Response:
        """Submit a view the app opened, with `values` as Slack's `state.values`."""
        submitted = {**view, "state": {"values": values}, "team_id": team_id or self.team_id}
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": team_id or self.team_id, "domain": "acme"},
                "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id or self.team_id},
                "api_app_id": "A0LEADLOOP",
                "trigger_id": self.slack.new_trigger_id(),
                "view": submitted,
            }
        )

    def block_action(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str | None = None,
        block_id: str = "connect",
        channel_id: str = "D0DM",
        message_ts: str = "1.0",
        url: str | None = None,
    ) -> httpx.Response:
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": str(time.time()),
        }
        if value is not None:
            action["value"] = value
        if url is not None:
            action["url"] = url
        return self.interaction(
            {
                "type": "block_actions",
                "team": {"id": self.team_id, "domain": "acme"},
                "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
                "api_app_id": "A0LEADLOOP",
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                },
                "channel": {"id": channel_id, "name": "directmessage"},
                "trigger_id": self.slack.new_trigger_id(),
                "response_url": self.slack.response_url(uuid.uuid4().hex),
                "actions": [action],
            }
        )

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> httpx.Response:
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "api_app_id": "A0LEADLOOP",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team_id, "user_id": "UBOT", "is_bot": True}],
            }
        ).encode()
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else None
        return self.post(body, "application/json", headers=headers)


def form_values(view: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Fill the Add Email form the way a person would, by block id, as Slack reports `state.values`.

    Text fields take strings, `assigned_user` a user id, `team_members` a list of ids, selects an
    option value. A Location block, when the form has one, gets its first option unless given.
    """
    block_ids = {block.get("block_id") for block in view["blocks"]}
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        block_id = block["block_id"]
        element = block["element"]
        given = fields.get(block_id)
        if block_id == "location" and "location" not in fields:
            given = element["options"][0]["value"]
        kind = element["type"]
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": given}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": given}
        elif kind == "multi_users_select":
            state = {"type": kind, "selected_users": list(given or [])}
        elif kind == "conversations_select":
            state = {"type": kind, "selected_conversation": given}
        elif kind == "static_select":
            state = {
                "type": kind,
                "selected_option": {"value": given, "text": {"type": "plain_text", "text": str(given)}}
                if given
                else None,
            }
        else:
            raise AssertionError(f"form_values can't fill a {kind}")
        values[block_id] = {"value": state}
    unknown = set(fields) - block_ids
    assert not unknown, f"the form has no fields {unknown}"
    return values
