"""Requests into /slack/events: signatures, retries, workspaces, and the read-only commands."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from storage.models import AuditEvent, Location, ProcessedDelivery
from tests.support.db import Rows
from tests.support.flows import add_address, replies, trigger_of
from tests.support.slack_requests import sign
from tests.support.stack import ADMIN_ID, SIGNING_SECRET, Stack


def views_opened_for(stack: Stack, trigger: str) -> list:
    time.sleep(0.3)
    return [call for call in stack.slack.calls("views.open") if call.params.get("trigger_id") == trigger]


@pytest.mark.parametrize(
    "forgery",
    [
        "wrong-secret",
        "other-body",
        "one-byte-changed",
        "stale",
        "future",
        "no-signature",
        "garbage-timestamp",
        "empty-timestamp",
        "huge-timestamp",
    ],
)
def test_forged_or_stale_requests_get_401_and_do_nothing(stack: Stack, forgery: str) -> None:
    requests = stack.requests()
    body = requests.command_body("add-email", user_id=ADMIN_ID)
    now = str(int(time.time()))
    headers = {"timestamp": now, "signature": sign(SIGNING_SECRET, now, body)}
    sent = body
    if forgery == "wrong-secret":
        headers["signature"] = sign("not-the-secret", now, body)
    elif forgery == "other-body":
        headers["signature"] = sign(SIGNING_SECRET, now, b"text=help")
    elif forgery == "one-byte-changed":
        sent = body.replace(b"add-email", b"add-emaim")
    elif forgery in ("stale", "future"):
        # Past: 301 s is always beyond the 300 s window. Future: the window shrinks while the request
        # is in flight, so a margin keeps the test from racing the boundary.
        skewed = str(int(time.time()) + (-301 if forgery == "stale" else 330))
        headers = {"timestamp": skewed, "signature": sign(SIGNING_SECRET, skewed, body)}
    elif forgery == "no-signature":
        headers["signature"] = ""
    else:
        headers["timestamp"] = {"garbage-timestamp": "abc", "empty-timestamp": "", "huge-timestamp": "9" * 40}[forgery]
    response = requests.post(
        sent,
        "application/x-www-form-urlencoded",
        timestamp=None,
        signature=headers["signature"],
        headers={"X-Slack-Request-Timestamp": headers["timestamp"]},
    )
    assert response.status_code == 401
    trigger = [part.split("=", 1)[1] for part in body.decode().split("&") if part.startswith("trigger_id=")][0]
    assert views_opened_for(stack, trigger) == []


def test_a_request_from_a_workspace_the_bot_is_not_installed_in_is_refused(stack: Stack) -> None:
    response = stack.requests().command("add-email", user_id=ADMIN_ID, team_id="T0INTRUDER")
    assert response.status_code == 403
    assert views_opened_for(stack, trigger_of(response)) == []


def test_a_retried_event_is_handled_once(stack: Stack, rows: Rows) -> None:
    event_id = f"Ev{uuid.uuid4().hex[:10].upper()}"
    home = {
        "type": "app_home_opened",
        "user": "UJANE",
        "channel": "DUJANE",
        "tab": "home",
        "event_ts": str(time.time()),
    }
    requests = stack.requests()
    assert requests.event(home, event_id=event_id).status_code == 200
    for retry in (1, 2, 3):
        assert requests.event(home, event_id=event_id, retry_num=retry).status_code == 200
    stack.slack.wait_for("views.publish", lambda call: call.params.get("user_id") == "UJANE")
    time.sleep(0.3)
    assert len([call for call in stack.slack.calls("views.publish") if call.params.get("user_id") == "UJANE"]) == 1
    assert rows.one(ProcessedDelivery, key=f"event:{event_id}")


def test_app_home_shows_the_viewers_own_addresses(stack: Stack, rows: Rows) -> None:
    mine = add_address(stack, rows, assignee="UCARL").email
    others = add_address(stack, rows, assignee="UBOB").email
    home = {
        "type": "app_home_opened",
        "user": "UCARL",
        "channel": "DUCARL",
        "tab": "home",
        "event_ts": str(time.time()),
    }
    assert stack.requests().event(home).status_code == 200
    view = stack.slack.wait_for("views.publish", lambda call: call.params.get("user_id") == "UCARL")[0].params["view"]
    text = json.dumps(view)
    assert view["type"] == "home"
    assert mine in text and "Pending" in text
    assert others not in text


def test_the_messages_tab_does_not_publish_home(stack: Stack) -> None:
    event = {
        "type": "app_home_opened",
        "user": "UBOB",
        "channel": "DUBOB",
        "tab": "messages",
        "event_ts": str(time.time()),
    }
    assert stack.requests().event(event).status_code == 200
    time.sleep(0.3)
    assert [call for call in stack.slack.calls("views.publish") if call.params.get("user_id") == "UBOB"] == []


def test_list_shows_every_address_with_status_assignee_location_and_team(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows, display_name="<!channel> Jane", team_name="Front Desk", team_channel="C0FRONT")
    response = stack.requests().command("list", user_id="UBOB")
    reply = replies(stack, response)[0].params
    text = json.dumps(reply["blocks"])
    assert reply["response_type"] == "ephemeral"
    assert (
        added.email in text
        and "Pending" in text
        and "<@UJANE>" in text
        and "Front Desk" in text
        and "<#C0FRONT>" in text
    )
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text, "user text can't ping a channel"


def test_help_lists_the_commands_and_the_support_contact(stack: Stack) -> None:
    for text in ("help", "", "frobnicate"):
        reply = replies(stack, stack.requests().command(text, user_id="UBOB"))[0].params
        rendered = json.dumps(reply["blocks"])
        assert "/leadloop add-email" in rendered and "/leadloop list" in rendered and "help@leadloop.test" in rendered
        if text == "frobnicate":
            assert "I don't know `frobnicate`" in rendered


def test_locations_are_listed_to_all_but_added_by_admins_only(stack: Stack, rows: Rows) -> None:
    name = f"Uptown {uuid.uuid4().hex[:6]}"
    refused = replies(stack, stack.requests().command(f"locations add {name}", user_id="UBOB"))[0].params
    assert "Only workspace admins" in refused["text"]
    assert rows.all(Location, name=name) == []

    added = replies(stack, stack.requests().command(f"locations add {name}", user_id=ADMIN_ID))[0].params
    assert "Added the location" in added["text"]
    duplicate = replies(stack, stack.requests().command(f"locations add {name.upper()}", user_id=ADMIN_ID))[0].params
    assert "already exists" in duplicate["text"]
    assert len(rows.all(Location, name=name)) == 1

    listing = replies(stack, stack.requests().command("locations", user_id="UBOB"))[0].params
    assert name in json.dumps(listing["blocks"])
    assert rows.all(AuditEvent, action="location.added", actor=ADMIN_ID)


def test_a_slack_outage_is_retried(stack: Stack, rows: Rows) -> None:
    stack.slack.fail_next("users.info", "internal_error", status=503, times=2)
    name = f"Retry {uuid.uuid4().hex[:6]}"
    reply = replies(stack, stack.requests().command(f"locations add {name}", user_id=ADMIN_ID))[0].params
    assert "Added the location" in reply["text"]
    assert len(rows.all(Location, name=name)) == 1


def test_an_unexpected_failure_gets_a_plain_apology_and_changes_nothing(stack: Stack, rows: Rows) -> None:
    stack.slack.fail_next("users.info", "internal_error", status=500, times=10)
    name = f"Broken {uuid.uuid4().hex[:6]}"
    reply = replies(stack, stack.requests().command(f"locations add {name}", user_id=ADMIN_ID))[0].params
    assert reply["response_type"] == "ephemeral"
    assert "something went wrong on our side" in reply["text"] and "help@leadloop.test" in reply["text"]
    assert "Traceback" not in reply["text"] and "SlackApiError" not in reply["text"]
    assert rows.all(Location, name=name) == []
