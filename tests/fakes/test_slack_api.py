"""Tests of FakeSlack itself, driven by slack_sdk's real sync and async clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from . import slack_api
from .slack_api import FakeSlack

TOKEN = "xoxb-test-token"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url)


def error_of(call: Callable[[], object]) -> str:
    """The Slack error code the real client raised for ``call``."""
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response["error"]


def lead_modal(title: str = "New lead") -> View:
    return View(
        type="modal",
        callback_id="lead_form",
        title=title,
        submit="Save",
        blocks=[InputBlock(block_id="email", label="Email", element=PlainTextInputElement(action_id="value"))],
    )


def test_auth_test(fake: FakeSlack, client: WebClient) -> None:
    response = client.auth_test()
    assert (response["team_id"], response["user_id"], response["bot_id"]) == ("T0001", "UBOT", "BBOT")
    assert fake.calls("auth.test")[0].team_id == "T0001"


def test_tokens_are_bound_to_their_team(fake: FakeSlack) -> None:
    fake.add_team("T0002", "xoxb-second")
    assert WebClient(token="xoxb-second", base_url=fake.base_url).auth_test()["team_id"] == "T0002"


def test_invalid_token(fake: FakeSlack) -> None:
    bad = WebClient(token="xoxb-nope", base_url=fake.base_url)
    assert error_of(bad.auth_test) == "invalid_auth"
    assert fake.calls()[0].error == "invalid_auth"


def test_users_info(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U123", name="ada", real_name="Ada L", email="ada@example.com", is_admin=True, tz="Europe/Paris")
    user = client.users_info(user="U123")["user"]
    assert user["profile"]["email"] == "ada@example.com"
    assert user["is_admin"] and user["tz_offset"] in (3600, 7200)
    assert error_of(lambda: client.users_info(user="U404")) == "user_not_found"


def test_users_of_another_team_are_hidden(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U777", team_id="T0009")
    assert error_of(lambda: client.users_info(user="U777")) == "user_not_found"


def test_dm_post_and_update_round_trip(fake: FakeSlack, client: WebClient) -> None:
    channel = client.conversations_open(users="U123")["channel"]["id"]
    assert channel == "DU123" == client.conversations_open(users=["U123"])["channel"]["id"]
    first = client.chat_postMessage(channel=channel, text="hello")
    second = client.chat_postMessage(channel=channel, text="again")
    assert float(second["ts"]) > float(first["ts"])
    blocks = [SectionBlock(text="*Updated*")]
    client.chat_update(channel=channel, ts=first["ts"], text="updated", blocks=blocks)
    assert (fake.message(channel, first["ts"]) or {})["blocks"][0]["text"]["text"] == "*Updated*"
    assert error_of(lambda: client.chat_update(channel=channel, ts="1.000001", text="x")) == "message_not_found"
    fake.assert_no_validation_errors()


def test_private_channel_without_bot(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C1", "leads", is_private=True, is_member=False)
    assert error_of(lambda: client.conversations_info(channel="C1")) == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C1", text="x")) == "channel_not_found"


def test_views_open_valid_modal(fake: FakeSlack, client: WebClient) -> None:
    view = client.views_open(trigger_id=fake.new_trigger_id(), view=lead_modal())["view"]
    assert view["id"].startswith("V") and view["hash"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=lead_modal("Saved"))["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    stale = lambda: client.views_update(view_id=view["id"], hash=view["hash"], view=lead_modal())  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    fake.assert_no_validation_errors()


def test_views_open_rejects_long_title(fake: FakeSlack, client: WebClient) -> None:
    view = lead_modal().to_dict() | {"title": {"type": "plain_text", "text": "x" * 30}}
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=view)) == "invalid_arguments"
    assert "title must be between 1 and 24 characters" in fake.validation_errors[0]
    with pytest.raises(AssertionError):
        fake.assert_no_validation_errors()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": "Bare string"}, "must provide an object"),
        ({"private_metadata": "x" * 3001}, "private_metadata cannot exceed 3000"),
        ({"submit": None}, "need a submit"),
        ({"type": "home", "submit": None}, "needs a modal view"),
    ],
)
def test_views_rules(fake: FakeSlack, client: WebClient, change: dict, expected: str) -> None:
    view = {k: v for k, v in (lead_modal().to_dict() | change).items() if v is not None}
    assert error_of(lambda: client.views_open(trigger_id="1.2.3", view=view)) == "invalid_arguments"
    assert expected in fake.validation_errors[0]


def test_trigger_ids_are_single_use_and_expire(
    fake: FakeSlack, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    trigger = fake.new_trigger_id()
    client.views_open(trigger_id=trigger, view=lead_modal())
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=lead_modal())) == "exchanged_trigger_id"
    monkeypatch.setattr(slack_api, "TRIGGER_TTL_SECONDS", 0.0)
    late = fake.new_trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=late, view=lead_modal())) == "expired_trigger_id"


def test_home_publish(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [SectionBlock(text="Welcome").to_dict()]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    assert client.views_publish(user_id="U1", view=home, hash=first["hash"])["view"]["id"] == first["id"]
    with_submit = home | {"submit": {"type": "plain_text", "text": "Go"}}
    assert error_of(lambda: client.views_publish(user_id="U1", view=with_submit)) == "invalid_arguments"


@pytest.mark.parametrize(
    ("blocks", "text", "expected"),
    [
        ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "t", "unsupported block type"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "t", "cannot exceed 3000"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "acessory": {}}], "t", "/blocks/0/acessory"),
        ([SectionBlock(text="fine").to_dict()], "", "text fallback"),
        ([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}], "t", "duplicate block_id"),
        (
            [ActionsBlock(elements=[ButtonElement(text="a", action_id="x"), ButtonElement(text="b", action_id="x")])],
            "t",
            "duplicate action_id",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "a"},
                            "url": "https://x.test/" + "x" * 3000,
                        }
                    ],
                }
            ],
            "t",
            "url attribute",
        ),
        ([{"type": "divider"}] * 51, "t", "no more than 50"),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_bad_message_blocks_rejected(
    fake: FakeSlack, client: WebClient, blocks: list, text: str, expected: str
) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C1", text=text, blocks=blocks)) == "invalid_blocks"
    assert any(expected in e for e in fake.validation_errors), fake.validation_errors


def test_form_encoded_blocks_are_decoded(fake: FakeSlack, client: WebClient) -> None:
    """api_call(params=...) sends a form body with blocks as a JSON string, as older code does."""
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "t", "blocks": '[{"type": "divider"}]'})
    assert fake.calls("chat.postMessage")[0].params["blocks"] == [{"type": "divider"}]


def test_function_completion_recorded(fake: FakeSlack) -> None:
    fake.add_team("T0001", "xwfp-function-token")
    WebClient(token="xwfp-function-token", base_url=fake.base_url).functions_completeSuccess(
        function_execution_id="Fx1", outputs={"sent": True}
    )
    call = fake.calls("functions.completeSuccess")[0]
    assert call.params["outputs"] == {"sent": True} and call.team_id == "T0001"


def test_unknown_method(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(lambda: client.api_call("reactions.add", params={"name": "x"})) == "unknown_method"
    assert fake.calls("reactions.add")[0].params == {"name": "x"}


def test_response_url_post_recorded(fake: FakeSlack) -> None:
    webhook = WebhookClient(fake.response_url("cmd-1"))
    assert webhook.send(text="done", response_type="ephemeral").status_code == 200
    assert webhook.send(text="", blocks=[SectionBlock(text="no fallback")]).status_code == 400
    first, second = fake.wait_for("response_url", count=2)
    assert first.params == {"key": "cmd-1", "text": "done", "response_type": "ephemeral"}
    assert second.error == "invalid_blocks"


def test_plain_5xx_and_latency(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("auth.test", "internal_error", status=500)
    with pytest.raises(SlackApiError) as info:
        client.auth_test()
    assert info.value.response.status_code == 500
    fake.set_latency("auth.test", 0.3)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.3


def test_wait_for_times_out_with_listing(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match="auth.test error=None"):
        fake.wait_for("chat.postMessage", timeout=0.1)
    fake.fail_next("auth.test")
    fake.reset()
    assert fake.calls() == []
    assert client.auth_test()["ok"]


@pytest.mark.asyncio
async def test_async_client_retries_after_ratelimit(fake: FakeSlack) -> None:
    client = AsyncWebClient(
        token=TOKEN, base_url=fake.base_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    response = await client.chat_postMessage(channel="C1", text="hi")
    assert response["ok"]
    calls = await fake.await_for("chat.postMessage", count=2)
    assert [c.error for c in calls] == ["ratelimited", None]
    assert calls[1].at - calls[0].at >= 1


@pytest.mark.asyncio
async def test_async_client_query_string_params(fake: FakeSlack) -> None:
    """The aiohttp client sends ``params=`` methods as a query string (GET for users.info)."""
    fake.add_user("U123", email="ada@example.com")
    client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
    assert (await client.users_info(user="U123"))["user"]["profile"]["email"] == "ada@example.com"
    assert (await client.conversations_open(users="U123"))["channel"]["id"] == "DU123"
    await client.functions_completeError(function_execution_id="Fx1", error="mailbox gone")
    assert fake.calls("functions.completeError")[0].params == {"function_execution_id": "Fx1", "error": "mailbox gone"}


@pytest.mark.asyncio
async def test_async_client_without_retry_sees_429(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
    fake.fail_next("users.info", retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await client.users_info(user="U1")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
