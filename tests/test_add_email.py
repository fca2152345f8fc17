"""An admin adds an outbound address from Slack: the modal, its validation, the DM and the audit trail."""

from __future__ import annotations

import json
import time

import pytest

from storage.models import AuditEvent, ConnectLink, Location, OutboundAddress
from tests.support.db import Rows
from tests.support.flows import (
    add_address,
    errors_of,
    open_form,
    replies,
    submit_form,
    trigger_of,
    unique_email,
)
from tests.support.stack import ADMIN_ID, LISTED_ADMIN_ID, Stack


def block_ids(view: dict) -> list[str]:
    return [block.get("block_id") for block in view["blocks"] if block["type"] == "input"]


def test_command_opens_the_form_prefilled_with_the_typed_address(stack: Stack) -> None:
    started = time.monotonic()
    view = open_form(stack, text="add-email Jane@Acme.example")
    assert time.monotonic() - started < 3, "the modal must open inside Slack's 3-second trigger window"
    assert view["callback_id"] == "add_email"
    assert view["title"]["text"] == "Add email"
    email_block = next(block for block in view["blocks"] if block.get("block_id") == "email")
    assert email_block["element"]["initial_value"] == "Jane@Acme.example"
    assert {"email", "assigned_user", "display_name", "provider", "team_name", "team_channel", "team_members"} <= set(
        block_ids(view)
    )
    providers = next(block for block in view["blocks"] if block.get("block_id") == "provider")
    labels = [option["text"]["text"] for option in providers["element"]["options"]]
    assert {"Gmail / Google Workspace", "Microsoft 365 / Outlook", "Yahoo Mail"} == set(labels)


def test_a_listed_admin_may_add_but_a_member_is_refused_politely(stack: Stack) -> None:
    assert open_form(stack, user_id=LISTED_ADMIN_ID)["callback_id"] == "add_email"

    response = stack.requests().command("add-email", user_id="UBOB")
    assert response.status_code == 200
    reply = replies(stack, response)[0]
    assert reply.params["response_type"] == "ephemeral"
    assert "Only workspace admins" in reply.params["text"]
    trigger = trigger_of(response)
    time.sleep(0.3)
    assert not [call for call in stack.slack.calls("views.open") if call.params.get("trigger_id") == trigger]


def test_submitting_stores_a_pending_address_dms_the_assignee_and_confirms(stack: Stack, rows: Rows) -> None:
    email = unique_email("Front.Desk")
    added = add_address(
        stack,
        rows,
        email=email,
        display_name="Front Desk",
        team_name="Front Desk",
        team_channel="C0FRONT",
        team_members=["UBOB", "UCARL"],
    )

    row = added.row
    assert row.email == email.lower()
    assert row.status == "pending"
    assert row.assigned_user_id == "UJANE"
    assert row.added_by_user_id == ADMIN_ID
    assert (row.team_name, row.team_channel_id, row.team_member_ids) == ("Front Desk", "C0FRONT", ["UBOB", "UCARL"])

    dm_text = json.dumps(added.dm.params["blocks"])
    assert email.lower() in dm_text
    assert f"<@{ADMIN_ID}>" in dm_text, "the DM says who asked"
    assert "send email on your behalf" in dm_text, "the DM says what access is asked for"
    assert added.connect_url.startswith(f"{stack.url}/oauth/start/")
    assert (row.dm_channel_id, row.dm_message_ts) == (
        added.dm.params["channel"],
        rows.one(OutboundAddress, id=row.id).dm_message_ts,
    )

    confirmation = stack.slack.wait_for(
        "chat.postEphemeral", lambda call: email.lower() in json.dumps(call.params.get("blocks"))
    )[0]
    assert confirmation.params["user"] == ADMIN_ID
    assert confirmation.params["channel"] == "C0GENERAL"

    link = rows.one(ConnectLink, address_id=row.id)
    assert link.slack_user_id == "UJANE" and link.used_at is None
    actions = [event.action for event in rows.all(AuditEvent, address_id=row.id)]
    assert "address.added" in actions and "connect_link.issued" in actions


def test_every_bad_field_is_reported_inline_and_nothing_is_stored(stack: Stack, rows: Rows) -> None:
    existing = add_address(stack, rows).email
    before = len(rows.all(OutboundAddress))
    cases = [
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"email": "a@b"}, "email", "valid email"),
        ({"email": "jane@gmaіl.com"}, "email", "look-alike"),  # Cyrillic і
        ({"email": existing.upper()}, "email", "already set up"),
        ({"assigned_user": "UROBOT"}, "assigned_user", "Bots"),
        ({"assigned_user": "UGONE"}, "assigned_user", "deactivated"),
        ({"assigned_user": "UOUTSIDER"}, "assigned_user", "member"),
        ({"assigned_user": "UNOSUCH"}, "assigned_user", "isn't in this workspace"),
        ({"display_name": ""}, "display_name", "required"),
        ({"display_name": "Jane\u202eDoe"}, "display_name", "control"),
        ({"provider": "yahoo"}, "provider", "YAHOO_CLIENT_ID"),
        ({"team_channel": "C0FRONT", "team_name": ""}, "team_name", "name"),
    ]
    for change, field, expected in cases:
        view = open_form(stack)
        fields = {
            "email": unique_email(),
            "assigned_user": "UJANE",
            "display_name": "Jane",
            "provider": "google",
            **change,
        }
        errors = errors_of(submit_form(stack, view, **fields))
        assert field in errors, (change, errors)
        assert expected in errors[field], (change, errors)
    assert len(rows.all(OutboundAddress)) == before


def test_several_errors_are_reported_at_once(stack: Stack) -> None:
    view = open_form(stack)
    errors = errors_of(
        submit_form(stack, view, email="nope", assigned_user="UROBOT", display_name="", provider="google")
    )
    assert set(errors) == {"email", "assigned_user", "display_name"}


def test_an_admin_demoted_while_the_form_was_open_is_refused(stack: Stack, rows: Rows) -> None:
    stack.slack.add_user("UFORMER", team_id=stack.requests().team_id, name="former", is_admin=True)
    view = open_form(stack, user_id="UFORMER")
    stack.slack.add_user("UFORMER", team_id=stack.requests().team_id, name="former", is_admin=False)
    email = unique_email()
    errors = errors_of(
        submit_form(
            stack, view, user_id="UFORMER", email=email, assigned_user="UJANE", display_name="J", provider="google"
        )
    )
    assert "Only workspace admins" in errors["email"]
    assert rows.all(OutboundAddress, email=email) == []


def test_locations_appear_in_the_form_and_a_stale_one_is_refused(stack: Stack, rows: Rows) -> None:
    name = f"Branch {unique_email()[:12]}"
    response = stack.requests().command(f"locations add {name} <#C0BRANCH|branch>", user_id=ADMIN_ID)
    assert "Added the location" in replies(stack, response)[0].params["text"]
    location = rows.one(Location, name=name)
    assert location.alert_channel_id == "C0BRANCH"

    view = open_form(stack)
    options = next(block for block in view["blocks"] if block.get("block_id") == "location")["element"]["options"]
    assert location.id in [option["value"] for option in options]

    errors = errors_of(
        submit_form(
            stack,
            view,
            email=unique_email(),
            assigned_user="UJANE",
            display_name="J",
            provider="google",
            location="0" * 32,
        )
    )
    assert "no longer exists" in errors["location"]

    email = unique_email()
    assert (
        errors_of(
            submit_form(
                stack,
                view,
                email=email,
                assigned_user="UJANE",
                display_name="J",
                provider="google",
                location=location.id,
            )
        )
        == {}
    )
    assert rows.one(OutboundAddress, email=email).location_id == location.id


def test_a_rate_limited_views_open_is_retried_and_the_form_still_opens(stack: Stack) -> None:
    stack.slack.fail_next("views.open", "ratelimited", retry_after=1)
    response = stack.requests().command("add-email", user_id=ADMIN_ID)
    trigger = trigger_of(response)
    opened = stack.slack.wait_for(
        "views.open", lambda call: call.params.get("trigger_id") == trigger and call.error is None
    )
    assert opened[0].params["view"]["callback_id"] == "add_email"


def test_when_the_dm_cannot_be_sent_the_address_is_kept_and_the_admin_is_told(stack: Stack, rows: Rows) -> None:
    stack.slack.fail_next("conversations.open", "user_disabled")
    view = open_form(stack)
    email = unique_email()
    assert (
        errors_of(submit_form(stack, view, email=email, assigned_user="UJANE", display_name="J", provider="google"))
        == {}
    )
    warning = stack.slack.wait_for("chat.postEphemeral", lambda call: email in json.dumps(call.params.get("blocks")))[0]
    assert "couldn't DM" in json.dumps(warning.params["blocks"]) and "user_disabled" in json.dumps(
        warning.params["blocks"]
    )
    assert rows.one(OutboundAddress, email=email).status == "pending"
    assert rows.one(ConnectLink, address_id=rows.one(OutboundAddress, email=email).id).used_at is None


@pytest.mark.parametrize("metadata", ["not json", '{"channel_id": "https://evil.example"}', '{"channel_id": ["C1"]}'])
def test_tampered_private_metadata_is_ignored_and_the_admin_is_told_by_dm(
    stack: Stack, rows: Rows, metadata: str
) -> None:
    view = {**open_form(stack), "private_metadata": metadata}
    email = unique_email()
    assert (
        errors_of(submit_form(stack, view, email=email, assigned_user="UJANE", display_name="J", provider="google"))
        == {}
    )
    told = stack.slack.wait_for(
        "chat.postMessage",
        lambda call: call.params.get("channel") == f"D{ADMIN_ID}" and email in json.dumps(call.params),
    )
    assert "Added" in json.dumps(told[0].params["blocks"])
    assert not [call for call in stack.slack.calls("chat.postEphemeral") if email in json.dumps(call.params)]


def test_when_slack_refuses_the_form_the_admin_is_told_to_try_again(stack: Stack) -> None:
    stack.slack.fail_next("views.open", "expired_trigger_id")
    reply = replies(stack, stack.requests().command("add-email", user_id=ADMIN_ID))[0]
    assert "run `/leadloop add-email` again" in reply.params["text"]
    assert reply.params["response_type"] == "ephemeral"


def test_opening_the_form_twice_in_a_minute_asks_slack_about_the_admin_once(stack: Stack) -> None:
    stack.slack.add_user("UREPEAT", team_id=stack.requests().team_id, name="repeat", is_admin=True)
    open_form(stack, user_id="UREPEAT")
    open_form(stack, user_id="UREPEAT")
    lookups = [call for call in stack.slack.calls("users.info") if call.params.get("user") == "UREPEAT"]
    assert len(lookups) == 1
