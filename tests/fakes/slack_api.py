"""A local fake of the Slack Web API, served over real HTTP on 127.0.0.1.

Slack cannot be reached from tests, and slack_sdk's clients (urllib and aiohttp)
cannot be intercepted by respx or pytest-httpx, so the app's real clients are
pointed here with ``base_url``.  The fake records every call, answers the way
Slack does for the methods the bot uses, and rejects payloads Slack would
reject, so a bad block or view fails the test instead of production.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NoReturn
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import uvicorn
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

Params = dict[str, Any]

# Form bodies carry these as JSON strings; they are decoded so tests see structures.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "outputs", "metadata"})
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
TRIGGER_TTL_SECONDS = 3.0
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass(frozen=True)
class Call:
    """One request the fake received; ``error`` is None when it answered ok."""

    method: str
    params: Params
    token: str | None
    team_id: str | None
    at: float
    error: str | None = None


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    times: int


class SlackError(Exception):
    """Makes a handler answer ``{"ok": false, "error": ...}`` with Slack's detail fields."""

    def __init__(self, error: str, details: list[str] | None = None) -> None:
        super().__init__(error)
        self.error, self.details = error, details or []

    def body(self) -> Params:
        body: Params = {"ok": False, "error": self.error}
        if self.details:
            body["errors"] = self.details
            body["response_metadata"] = {"messages": [f"[ERROR] {d}" for d in self.details]}
        return body


def _walk(node: Any) -> Iterator[Params]:
    """Every JSON object inside ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)


def _paths(node: Any, prefix: str = "", *, leaves_only: bool) -> set[str]:
    """JSON pointers in a tree, nulls skipped; comparing them shows what slack_sdk dropped."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    children = [(f"{prefix}/{k}", v) for k, v in items if v is not None]
    if not children:
        return {prefix}
    found = set() if leaves_only else {prefix}
    for path, child in children:
        found |= _paths(child, path, leaves_only=leaves_only)
    return found


def _lost_in_parsing(raw: Params, out: Params, pointer: str) -> list[str]:
    """Fields slack_sdk dropped (unknown, misspelt, empty) or had to turn from strings into objects."""
    kept, out_leaves = _paths(out, leaves_only=False), _paths(out, leaves_only=True)
    errors = set()
    for leaf in _paths(raw, leaves_only=True):
        if leaf not in kept:
            parts = leaf.split("/")
            lost = next(p for n in range(2, len(parts) + 1) if (p := "/".join(parts[:n])) not in kept)
            errors.add(f"unknown, misspelt or empty field [json-pointer:{pointer}{lost}]")
        elif leaf not in out_leaves:
            errors.add(f"must provide an object [json-pointer:{pointer}{leaf}]")
    return sorted(errors)


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def blocks_errors(blocks: Any, limit: int, pointer: str = "/blocks") -> list[str]:
    """What Slack would reject in a list of blocks, checked with slack_sdk's own models."""
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return [f"blocks must be a JSON array of objects [json-pointer:{pointer}]"]
    errors = [] if len(blocks) <= limit else [f"no more than {limit} items allowed [json-pointer:{pointer}]"]
    for i, raw in enumerate(blocks):
        where = f"[json-pointer:{pointer}/{i}]"
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                errors.append(f"unsupported block type {raw.get('type')!r} {where}")
                continue
            out = parsed.to_dict()
        except Exception as exc:  # slack_sdk raises several types for bad input
            errors.append(f"{exc} {where}")
            continue
        errors += _lost_in_parsing(raw, out, f"{pointer}/{i}")
        action_ids = [n["action_id"] for n in _walk(raw) if isinstance(n.get("action_id"), str)]
        errors += [f"duplicate action_id {a!r} in block {where}" for a in _duplicates(action_ids)]
    block_ids = [b["block_id"] for b in blocks if isinstance(b.get("block_id"), str)]
    return errors + [f"duplicate block_id {b!r} [json-pointer:{pointer}]" for b in _duplicates(block_ids)]


def view_errors(view: Any) -> list[str]:
    """What views.* would reject: the blocks, View's own validators, then the modal rules."""
    if not isinstance(view, dict) or not isinstance(view.get("blocks"), list):
        return ["view must be an object with a blocks array [json-pointer:/view]"]
    if errors := blocks_errors(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks"):
        return errors
    try:
        out = View(**view).to_dict()
    except Exception as exc:
        return [f"{exc} [json-pointer:/view]"]
    errors = _lost_in_parsing({**view, "blocks": None}, {**out, "blocks": None}, "/view")
    if view["type"] == "modal" and not view.get("title"):
        errors.append("modal views need a title [json-pointer:/view/title]")
    if view["type"] == "modal" and not view.get("submit") and any(b.get("type") == "input" for b in view["blocks"]):
        errors.append("modal views with input blocks need a submit [json-pointer:/view/submit]")
    return errors


async def _read_params(request: Request) -> Params:
    """Query string plus a JSON or form body, with JSON-string fields decoded."""
    params: Params = dict(request.query_params)
    raw = await request.body()
    if raw and request.headers.get("content-type", "").startswith("application/json"):
        body = json.loads(raw)
        params.update(body if isinstance(body, dict) else {})
    elif raw:
        params.update(parse_qsl(raw.decode(), keep_blank_values=True))
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str) and params[key][:1] in ("[", "{"):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                pass  # left as a string, so validation rejects it as Slack would
    return params


class FakeSlack:
    """The Slack Web API for one or more workspaces, on a free port in a background thread."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        validate: bool = True,
    ) -> None:
        # Benchmarks turn validation off: they measure the bot, and the fake shares the machine's CPUs.
        self._validate = validate
        self._lock = threading.RLock()
        self._bot_user_id, self._bot_id, self._default_team = bot_user_id, bot_id, team_id
        self._tokens: dict[str, str] = {bot_token: team_id}
        self._users: dict[str, Params] = {}
        self._channels: dict[str, Params] = {}
        self._dms: set[str] = set()
        self._messages: dict[tuple[str, str], Params] = {}
        self._views: dict[str, Params] = {}
        self._homes: dict[tuple[str, str], str] = {}
        self._triggers: dict[str, float | None] = {}
        self._faults: dict[str, _Fault] = {}
        self._latency: dict[str, float] = {}
        self._calls: list[Call] = []
        self._validation_errors: list[str] = []
        self._ts = itertools.count(1733300000_000100, 100)
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._handlers: dict[str, Callable[[Params, str], Params]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": partial(self._views_open, "views.open"),
            "views.push": partial(self._views_open, "views.push"),
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "functions.completeSuccess": self._function_complete,
            "functions.completeError": self._function_complete,
        }

    def start(self) -> FakeSlack:
        """Serve on a socket bound before the thread starts, so the port is known and free."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/response/{key}", self._response_url_post, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("FakeSlack did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What the app gets as SLACK_API_URL (slack_sdk joins method names onto it)."""
        return f"http://127.0.0.1:{self._port}/api/"

    def response_url(self, key: str) -> str:
        """A response_url to put in a slash-command or interaction payload."""
        return f"http://127.0.0.1:{self._port}/response/{key}"

    def add_team(self, team_id: str, bot_token: str) -> None:
        """Accept ``bot_token`` for ``team_id``; call again to add e.g. an ``xwfp-`` function token."""
        with self._lock:
            self._tokens[bot_token] = team_id

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        name: str = "",
        real_name: str = "",
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        is_restricted: bool = False,
        is_stranger: bool = False,
        tz: str = "UTC",
    ) -> Params:
        """Add a user for users.info, Slack-shaped; only strangers are visible to other teams."""
        team = team_id or self._default_team
        now = datetime.now(ZoneInfo(tz))
        offset = now.utcoffset()
        profile = {"real_name": real_name, "display_name": name, "team": team}
        user: Params = {
            "id": user_id,
            "team_id": team,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile | ({"email": email} if email is not None else {}),
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": is_primary_owner,
            "is_restricted": is_restricted,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
        } | ({"is_stranger": True} if is_stranger else {})
        with self._lock:
            self._users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True) -> None:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_private": is_private,
            "is_member": is_member,
            "is_archived": False,
        }
        with self._lock:
            self._channels[channel_id] = channel

    def new_trigger_id(self) -> str:
        """A trigger_id that, like Slack's, expires after 3 seconds and opens one view only."""
        with self._lock:
            trigger = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
            self._triggers[trigger] = time.monotonic()
        return trigger

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``error``; ratelimited means HTTP 429."""
        if error == "ratelimited" and status == 200:
            status = 429
        with self._lock:
            self._faults[method] = _Fault(error, status, retry_after, times)

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay the answers (not the effects) of ``method``, for timeout and slowness tests."""
        with self._lock:
            self._latency[method] = seconds

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def message(self, channel: str, ts: str) -> Params | None:
        """A copy of the message as it stands now, after any chat.update."""
        with self._lock:
            return copy.deepcopy(self._messages.get((channel, ts)))

    @property
    def validation_errors(self) -> list[str]:
        with self._lock:
            return list(self._validation_errors)

    def assert_no_validation_errors(self) -> None:
        assert not self.validation_errors, "Slack would have rejected:\n" + "\n".join(self.validation_errors)

    def reset(self) -> None:
        """Forget calls, validation errors and injected faults/latency, so a shared fake can serve
        the next test; users, channels, messages and views stay."""
        with self._lock:
            for records in (self._calls, self._validation_errors, self._faults, self._latency):
                records.clear()

    def _polled(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None,
        count: int,
        deadline: float,
    ) -> list[Call] | None:
        """The matching calls once there are ``count``, else None; fails past the deadline."""
        found = [c for c in self.calls(method) if predicate is None or predicate(c)]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            seen = "\n".join(f"  {c.method} error={c.error} params={c.params}" for c in self.calls()) or "  (none)"
            raise AssertionError(f"expected {count} matching {method} call(s) in time; calls received:\n{seen}")
        return None

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Poll for calls: the bot calls Slack after its HTTP ack, so they arrive late."""
        deadline = time.monotonic() + timeout
        while (found := self._polled(method, predicate, count, deadline)) is None:
            time.sleep(0.02)
        return found

    async def await_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """``wait_for`` for async tests: yields to the loop so an in-process app keeps running."""
        deadline = time.monotonic() + timeout
        while (found := self._polled(method, predicate, count, deadline)) is None:
            await asyncio.sleep(0.02)
        return found

    async def _api(self, request: Request) -> Response:
        params = await _read_params(request)
        header = request.headers.get("authorization", "")
        token = params.pop("token", None) or (header[7:] if header.lower().startswith("bearer ") else None)
        return await self._answer(request.path_params["method"], params, token, error_status=200)

    async def _response_url_post(self, request: Request) -> Response:
        params = {**await _read_params(request), "key": request.path_params["key"]}
        return await self._answer("response_url", params, None, error_status=400)

    async def _answer(self, method: str, params: Params, token: str | None, *, error_status: int) -> Response:
        """Injected fault, else auth and handler; record and render under the lock; delay only the answer."""
        headers: dict[str, str] = {}
        arrived = time.time()
        with self._lock:
            team_id = self._tokens.get(token or "")
            fault = self._faults.get(method)
            if fault:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[method]
                status, body = fault.status, {"ok": False, "error": fault.error}
                if status == 429:
                    headers["Retry-After"] = str(fault.retry_after or 1)
            else:
                try:
                    status, body = 200, {"ok": True, **self._dispatch(method, params, token, team_id)}
                except SlackError as exc:
                    status, body = error_status, exc.body()
            self._calls.append(Call(method, params, token, team_id, arrived, body.get("error")))
            if status >= 500:
                response: Response = PlainTextResponse("Internal Server Error", status_code=status)
            else:
                response = JSONResponse(body, status_code=status, headers=headers)
            delay = self._latency.get(method, 0.0)
        await asyncio.sleep(delay)
        return response

    def _dispatch(self, method: str, params: Params, token: str | None, team_id: str | None) -> Params:
        if method == "response_url":
            return self._respond(params)
        handler = self._handlers.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        if not token:
            raise SlackError("not_authed")
        if team_id is None:
            raise SlackError("invalid_auth")
        return handler(params, team_id)

    def _reject(self, method: str, error: str, details: list[str]) -> NoReturn:
        self._validation_errors.extend(f"{method}: {d}" for d in details)
        raise SlackError(error, details)

    def _auth_test(self, p: Params, team_id: str) -> Params:
        return {
            "url": f"https://{team_id.lower()}.slack.com/",
            "team": f"Team {team_id}",
            "user": "leadloop",
            "team_id": team_id,
            "user_id": self._bot_user_id,
            "bot_id": self._bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, p: Params, team_id: str) -> Params:
        user = self._users.get(str(p.get("user") or ""))
        if user is None or not (user["team_id"] == team_id or user.get("is_stranger")):
            raise SlackError("user_not_found")
        return {"user": user}

    def _conversations_open(self, p: Params, team_id: str) -> Params:
        """One-to-one DMs only: the id is ``D`` + the user id, stable across calls."""
        users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1 or not USER_ID.match(users[0]):
            raise SlackError("user_not_found")
        already_open = users[0] in self._dms
        self._dms.add(users[0])
        return {"no_op": already_open, "already_open": already_open, "channel": {"id": "D" + users[0]}}

    def _conversations_info(self, p: Params, team_id: str) -> Params:
        channel = self._channels.get(str(p.get("channel") or ""))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            raise SlackError("channel_not_found")
        return {"channel": channel}

    def _channel(self, p: Params) -> str:
        """Where a message goes: a user id means the bot's DM; private channels without the bot fail."""
        channel = str(p.get("channel") or "")
        if USER_ID.match(channel):
            return "D" + channel
        known = self._channels.get(channel)
        if not channel or (known and known["is_private"] and not known["is_member"]):
            raise SlackError("channel_not_found")
        return channel

    def _check_message(self, method: str, p: Params) -> None:
        if not self._validate:
            return
        if not any(p.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            self._reject(method, "no_text", ["message has no text, blocks or attachments"])
        if "blocks" in p:
            errors = blocks_errors(p["blocks"], MAX_MESSAGE_BLOCKS)
            if not str(p.get("text") or "").strip():
                errors.append("blocks sent without a non-empty text fallback [json-pointer:/text]")
            if errors:
                self._reject(method, "invalid_blocks", errors)

    def _next_ts(self) -> str:
        """Unique, increasing message timestamps in Slack's "seconds.micros" form."""
        n = next(self._ts)
        return f"{n // 1_000_000}.{n % 1_000_000:06d}"

    def _chat_post_message(self, p: Params, team_id: str) -> Params:
        channel = self._channel(p)
        self._check_message("chat.postMessage", p)
        ts = self._next_ts()
        message = {
            "type": "message",
            "text": p.get("text", ""),
            "user": self._bot_user_id,
            "bot_id": self._bot_id,
            "team": team_id,
            "ts": ts,
        } | {k: p[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in p}
        self._messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_update(self, p: Params, team_id: str) -> Params:
        channel, ts = str(p.get("channel") or ""), str(p.get("ts") or "")
        message = self._messages.get((channel, ts))
        if message is None:
            raise SlackError("message_not_found")
        self._check_message("chat.update", p)
        message.update({k: p[k] for k in ("text", "blocks", "attachments", "metadata") if k in p})
        message["edited"] = {"user": self._bot_user_id, "ts": ts}
        return {"channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _chat_post_ephemeral(self, p: Params, team_id: str) -> Params:
        self._channel(p)
        if not p.get("user"):
            raise SlackError("user_not_in_channel")
        self._check_message("chat.postEphemeral", p)
        return {"message_ts": self._next_ts()}

    def _checked_view(self, method: str, p: Params, view_type: str) -> Params:
        """The view normalised by slack_sdk (strings become text objects), or a rejection."""
        view = p.get("view")
        if not self._validate:
            return dict(view)
        errors = view_errors(view)
        if not errors and view["type"] != view_type:
            errors = [f"{method} needs a {view_type} view, got {view['type']!r} [json-pointer:/view/type]"]
        if errors:
            self._reject(method, "invalid_arguments", errors)
        return View(**view).to_dict()

    def _save_view(self, view: Params, team_id: str, view_id: str | None = None) -> Params:
        """Store a view with the fields Slack adds, and a new hash on every save."""
        view_id = view_id or f"V{next(self._ids):08X}"
        self._views[view_id] = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
            "id": view_id,
            "team_id": team_id,
            "bot_id": self._bot_id,
            "root_view_id": view_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        }
        return {"view": self._views[view_id]}

    def _views_open(self, method: str, p: Params, team_id: str) -> Params:
        """views.open and views.push: a new modal behind a trigger_id (checked if the fake minted it)."""
        trigger = p.get("trigger_id") or p.get("interactivity_pointer")
        if not trigger:
            raise SlackError("invalid_arguments", ["missing required field: trigger_id"])
        view = self._checked_view(method, p, "modal")
        if trigger in self._triggers:
            issued = self._triggers[trigger]
            if issued is None:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() - issued > TRIGGER_TTL_SECONDS:
                raise SlackError("expired_trigger_id")
            self._triggers[trigger] = None
        return self._save_view(view, team_id)

    def _views_update(self, p: Params, team_id: str) -> Params:
        """Finds the view by view_id or external_id, as Slack does; a stale hash loses."""
        current = next(
            (
                v
                for v in self._views.values()
                if v["team_id"] == team_id and (v["id"] == p.get("view_id") or v["external_id"] == p.get("external_id"))
            ),
            None,
        )
        if current is None:
            raise SlackError("not_found")
        view = self._checked_view("views.update", p, "modal")
        if p.get("hash") and p["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        return self._save_view(view, team_id, current["id"])

    def _views_publish(self, p: Params, team_id: str) -> Params:
        """A user's Home tab: one view per user and team, replaced on each publish."""
        user_id = str(p.get("user_id") or "")
        if not user_id:
            raise SlackError("invalid_arguments", ["missing required field: user_id"])
        view = self._checked_view("views.publish", p, "home")
        current = self._views.get(self._homes.get((team_id, user_id), ""))
        if current and p.get("hash") and p["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        saved = self._save_view(view, team_id, current["id"] if current else None)
        self._homes[(team_id, user_id)] = saved["view"]["id"]
        return saved

    def _function_complete(self, p: Params, team_id: str) -> Params:
        """Only the execution id is checked; tests read outputs or error from the call record."""
        if not p.get("function_execution_id"):
            raise SlackError("invalid_arguments", ["missing required field: function_execution_id"])
        return {}

    def _respond(self, p: Params) -> Params:
        """A response_url post: a delete needs nothing else, anything else is a message."""
        if p.get("delete_original"):
            return {}
        if p.get("response_type") not in (None, "ephemeral", "in_channel"):
            self._reject("response_url", "invalid_arguments", [f"bad response_type {p['response_type']!r}"])
        self._check_message("response_url", p)
        return {}
