"""The assigned user connects the mailbox through a real OpenID Connect provider, and every way that can go wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadloop_bot.crypto import Keyring
from storage.models import AuditEvent, ConnectLink, Credential, OAuthAttempt, OutboundAddress
from tests.support.db import Rows
from tests.support.flows import Browser, add_address, page_text, with_query
from tests.support.stack import PROVIDER_SECRETS, Stack


def stored_secret(stack: Stack, credential: Credential) -> dict:
    """Decrypt what the app stored, the way only the app's own key can."""
    assert credential.ciphertext is not None
    return Keyring.parse(stack.encryption_key).decrypt(credential.ciphertext, bound_to=credential.address_id)


def remember(stack: Stack, *values: str | None) -> None:
    """Provider-issued secrets seen in a test: the log-hygiene test checks none was ever logged."""
    stack.issued_secrets.extend(value for value in values if value)


def test_connecting_stores_an_encrypted_credential_and_updates_the_dm(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    browser = Browser.new()

    landing = browser.client.get(added.connect_url)
    assert landing.status_code == 200
    assert added.email in page_text(landing) and "Gmail" in page_text(landing)
    assert rows.one(ConnectLink, address_id=added.row.id).used_at is None, "showing the page spends nothing"

    started = browser.continue_from(added.connect_url)
    assert started.status_code == 303
    authorize = parse_qs(urlsplit(started.headers["location"]).query)
    assert authorize["code_challenge_method"] == ["S256"]
    assert len(authorize["code_challenge"][0]) == 43
    assert authorize["login_hint"] == [added.email]
    assert authorize["redirect_uri"] == [f"{stack.url}/oauth/callback/google"]
    assert set(authorize["scope"][0].split()) == {
        "openid",
        "email",
        "https://www.googleapis.com/auth/gmail.readonly",
        "https://www.googleapis.com/auth/gmail.send",
    }
    assert "state" in authorize and "nonce" in authorize
    assert "client_secret" not in started.headers["location"], "no secret ever travels in a URL"
    assert PROVIDER_SECRETS["google"] not in started.headers["location"]
    browser_cookie = started.headers["set-cookie"].lower()
    assert "httponly" in browser_cookie and "samesite=lax" in browser_cookie and "path=/oauth" in browser_cookie

    from tests.peers.oidc_provider import sign_in

    callback_url = sign_in(browser.client, started.headers["location"], login=added.email)
    query = parse_qs(urlsplit(callback_url).query)
    assert query["iss"] == [stack.providers["google"].issuer]
    remember(stack, query["code"][0])

    done = browser.callback(callback_url)
    assert done.status_code == 200, page_text(done)
    assert "is connected" in page_text(done)
    assert done.headers["referrer-policy"] == "no-referrer"
    assert done.headers["cache-control"] == "no-store"
    assert query["code"][0] not in done.text

    row = rows.one(OutboundAddress, id=added.row.id)
    assert row.status == "connected" and row.connected_at is not None
    credential = rows.one(Credential, address_id=row.id)
    secret = stored_secret(stack, credential)
    remember(stack, secret["access_token"], secret["refresh_token"])
    assert secret["refresh_token"], "a refresh token is needed to keep sending"
    assert secret["access_token"] not in credential.ciphertext
    assert credential.subject == added.email
    assert "https://www.googleapis.com/auth/gmail.send" in credential.scopes

    update = stack.slack.wait_for("chat.update", lambda call: call.params.get("ts") == row.dm_message_ts)[0]
    assert update.params["channel"] == row.dm_channel_id
    assert "is connected" in json.dumps(update.params["blocks"])
    assert "address.connected" in [event.action for event in rows.all(AuditEvent, address_id=row.id)]
    home = stack.slack.wait_for("views.publish", lambda call: call.params.get("user_id") == "UJANE")[-1]
    assert added.email in json.dumps(home.params["view"]) and "Connected" in json.dumps(home.params["view"])


def test_signing_in_with_another_mailbox_is_refused_and_nothing_is_stored(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    browser = Browser.new()
    callback_url = browser.authorize(added.connect_url, login="bob@elsewhere.example")
    refused = browser.callback(callback_url)

    assert refused.status_code == 403
    text = page_text(refused)
    assert "bob@elsewhere.example" in text and added.email in text and "fresh link" in text
    assert rows.one(OutboundAddress, id=added.row.id).status == "pending"
    assert rows.all(Credential, address_id=added.row.id) == []
    reasons = [
        event.details.get("reason") for event in rows.all(AuditEvent, address_id=added.row.id, action="oauth.failed")
    ]
    assert reasons == ["identity_mismatch"]
    # The assignee's DM now carries a fresh link and says what went wrong.
    update = stack.slack.wait_for("chat.update", lambda call: call.params.get("ts") == added.row.dm_message_ts)[0]
    assert "the last sign-in didn't work" in json.dumps(update.params["blocks"]).lower()
    fresh = [link for link in rows.all(ConnectLink, address_id=added.row.id) if link.used_at is None]
    assert len(fresh) == 1


@pytest.mark.parametrize("login", ["unverified+{email}", "{upper}"])
def test_mailbox_check_ignores_case_but_not_verification(stack: Stack, rows: Rows, login: str) -> None:
    added = add_address(stack, rows)
    browser = Browser.new()
    response = browser.callback(
        browser.authorize(added.connect_url, login=login.format(email=added.email, upper=added.email.upper()))
    )
    expect_connected = login == "{upper}"
    assert (response.status_code == 200) is expect_connected, page_text(response)
    assert rows.one(OutboundAddress, id=added.row.id).status == ("connected" if expect_connected else "pending")


def test_a_link_works_once(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    first, second = Browser.new(), Browser.new()
    assert first.continue_from(added.connect_url).status_code == 303
    for attempt in (second.client.get(added.connect_url), second.continue_from(added.connect_url)):
        assert attempt.status_code == 410
        assert "already been used" in page_text(attempt)
    assert len(rows.all(OAuthAttempt, address_id=added.row.id)) == 1


def test_an_expired_link_is_refused(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    rows.set(ConnectLink, {"address_id": added.row.id}, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    for response in (httpx.get(added.connect_url), httpx.post(added.connect_url)):
        assert response.status_code == 410
        assert "expired" in page_text(response)
    assert rows.all(OAuthAttempt, address_id=added.row.id) == []


@pytest.mark.parametrize("tamper", ["flip-a-character", "other-link-id", "garbage"])
def test_a_tampered_link_is_refused(stack: Stack, rows: Rows, tamper: str) -> None:
    added = add_address(stack, rows)
    token = added.connect_url.rsplit("/", 1)[1]
    if tamper == "flip-a-character":
        forged = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    elif tamper == "other-link-id":
        payload, rest = token.split(".", 1)
        forged = "eyJsaW5rIjoiMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAifQ." + rest
    else:
        forged = "not-a-token"
    url = f"{stack.url}/oauth/start/{forged}"
    for response in (httpx.get(url), httpx.post(url)):
        assert response.status_code == 400
        assert "isn't valid" in page_text(response)
    assert rows.one(ConnectLink, address_id=added.row.id).used_at is None


def test_the_link_page_is_safe_to_prefetch(stack: Stack, rows: Rows) -> None:
    """Slack's unfurler and mail scanners GET (and HEAD) links: that must change nothing."""
    added = add_address(stack, rows)
    for _ in range(3):
        assert httpx.get(added.connect_url, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"}).status_code == 200
        assert httpx.head(added.connect_url).status_code in (200, 405)
    assert rows.one(ConnectLink, address_id=added.row.id).used_at is None
    assert rows.all(OAuthAttempt, address_id=added.row.id) == []


def authorized(stack: Stack, rows: Rows, *, provider: str = "google") -> tuple[Browser, str, OutboundAddress]:
    """An address whose assignee has signed in at the provider; the callback is not yet requested."""
    added = add_address(stack, rows, provider=provider)
    browser = Browser.new()
    callback_url = browser.authorize(added.connect_url, login=added.email)
    remember(stack, parse_qs(urlsplit(callback_url).query).get("code", [None])[0])
    return browser, callback_url, added.row


def assert_nothing_stored(rows: Rows, address: OutboundAddress) -> None:
    assert rows.one(OutboundAddress, id=address.id).status == "pending"
    assert rows.all(Credential, address_id=address.id) == []


def test_the_microsoft_connector_connects_through_its_own_callback(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows, provider="microsoft")
    assert callback_url.startswith(f"{stack.url}/oauth/callback/microsoft?")
    assert browser.callback(callback_url).status_code == 200
    credential = rows.one(Credential, address_id=address.id)
    assert credential.connector == "microsoft"
    assert {"Mail.Send", "Mail.Read", "MailboxSettings.Read"} <= set(credential.scopes.split())
    secret = stored_secret(stack, credential)
    remember(stack, secret["access_token"], secret["refresh_token"])


def test_a_replayed_callback_is_refused_before_any_token_request(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows)
    assert browser.callback(callback_url).status_code == 200
    replay = browser.callback(callback_url)
    assert replay.status_code == 400
    assert "already used" in page_text(replay)
    secret = stored_secret(stack, rows.one(Credential, address_id=address.id))
    remember(stack, secret["access_token"], secret["refresh_token"])


def test_an_expired_state_is_refused(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows)
    rows.set(OAuthAttempt, {"address_id": address.id}, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = browser.callback(callback_url)
    assert response.status_code == 400 and "10 minutes" in page_text(response)
    assert_nothing_stored(rows, address)


def test_a_state_from_another_browser_is_refused(stack: Stack, rows: Rows) -> None:
    _, callback_url, address = authorized(stack, rows)
    response = Browser.new().callback(callback_url)
    assert response.status_code == 400 and "different browser" in page_text(response)
    assert_nothing_stored(rows, address)
    assert rows.one(OAuthAttempt, address_id=address.id).used_at is None, (
        "a stranger can't burn the real user's attempt"
    )


@pytest.mark.parametrize("state", [None, "", "made-up-state"])
def test_a_missing_or_unknown_state_is_refused(stack: Stack, rows: Rows, state: str | None) -> None:
    browser, callback_url, address = authorized(stack, rows)
    response = browser.callback(with_query(callback_url, state=state))
    assert response.status_code == 400
    assert_nothing_stored(rows, address)


def test_a_response_naming_another_issuer_is_refused(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows)
    response = browser.callback(with_query(callback_url, iss=stack.providers["microsoft"].issuer))
    assert response.status_code == 400 and "different provider" in page_text(response)
    assert_nothing_stored(rows, address)
    assert rows.one(OAuthAttempt, address_id=address.id).used_at is not None, "the state is spent all the same"


def test_a_response_without_iss_is_refused_when_the_provider_promises_one(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows)
    assert browser.callback(with_query(callback_url, iss=None)).status_code == 400
    assert_nothing_stored(rows, address)


def test_a_state_delivered_to_another_providers_callback_is_refused(stack: Stack, rows: Rows) -> None:
    """Mix-up (RFC 9700 §4.4): a Google attempt's response must not be accepted at the Microsoft callback."""
    browser, callback_url, address = authorized(stack, rows)
    moved = callback_url.replace("/oauth/callback/google", "/oauth/callback/microsoft")
    response = browser.callback(moved)
    assert response.status_code == 400 and "wrong provider" in page_text(response)
    assert_nothing_stored(rows, address)


def test_a_tampered_code_is_refused_by_the_provider_and_handled(stack: Stack, rows: Rows) -> None:
    browser, callback_url, address = authorized(stack, rows)
    response = browser.callback(with_query(callback_url, code="tampered-" + "x" * 30))
    assert response.status_code == 400 and "rejected the sign-in code" in page_text(response)
    assert_nothing_stored(rows, address)
    assert [
        event.details["reason"] for event in rows.all(AuditEvent, address_id=address.id, action="oauth.failed")
    ] == ["invalid_grant"]


def test_cancelling_at_the_provider_shows_a_friendly_page_and_a_fresh_link(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    browser = Browser.new()
    callback_url = browser.authorize(added.connect_url, login=added.email, consent=False)
    assert parse_qs(urlsplit(callback_url).query)["error"] == ["access_denied"]
    response = browser.callback(callback_url)
    assert response.status_code == 400
    assert "cancelled" in page_text(response)
    assert_nothing_stored(rows, added.row)
    update = stack.slack.wait_for("chat.update", lambda call: call.params.get("ts") == added.row.dm_message_ts)[0]
    assert "cancelled" in json.dumps(update.params["blocks"])


def test_an_unknown_provider_callback_is_404(stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/oauth/callback/aol?code=x&state=y").status_code == 404


def test_the_bot_can_send_a_new_link_on_request(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    first_link = rows.one(ConnectLink, address_id=added.row.id)
    requests = stack.requests()
    assert requests.block_action(user_id="UBOB", action_id="new_link", value=added.row.id).status_code == 200
    refusal = stack.slack.wait_for("response_url", lambda call: "Only the person" in call.params.get("text", ""))[0]
    assert refusal.params["response_type"] == "ephemeral"
    assert rows.one(ConnectLink, id=first_link.id).used_at is None

    assert requests.block_action(user_id="UJANE", action_id="new_link", value=added.row.id).status_code == 200
    update = stack.slack.wait_for("chat.update", lambda call: call.params.get("ts") == added.row.dm_message_ts)[0]
    links = rows.all(ConnectLink, address_id=added.row.id)
    assert len(links) == 2 and rows.one(ConnectLink, id=first_link.id).used_at is not None, "the old link is retired"
    assert httpx.get(added.connect_url).status_code == 410
    new_url = next(
        element["url"]
        for block in update.params["blocks"]
        for element in block.get("elements", [])
        if element.get("action_id") == "connect_link"
    )
    assert httpx.get(new_url).status_code == 200


def test_the_link_button_is_acknowledged(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    response = stack.requests().block_action(user_id="UJANE", action_id="connect_link", url=added.connect_url)
    assert response.status_code == 200
    assert rows.one(ConnectLink, address_id=added.row.id).used_at is None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_no_page_forwards_the_browser_to_a_url_from_the_query(stack: Stack, rows: Rows, target: str) -> None:
    """No open redirector (RFC 9700 §2.1): a `next` parameter is ignored everywhere."""
    added = add_address(stack, rows)
    landing = httpx.get(added.connect_url, params={"next": target})
    assert landing.status_code == 200 and "evil" not in landing.text
    started = Browser.new().client.post(added.connect_url, params={"next": target})
    assert started.status_code == 303
    assert started.headers["location"].startswith(stack.providers["google"].issuer)
