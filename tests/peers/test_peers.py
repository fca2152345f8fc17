"""Self-checks of the real test peers: the OIDC provider's full round trip and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import psycopg
import pytest

from .oidc_provider import OidcProvider, sign_in
from .postgres import PostgresServer

CLIENT_ID = "leadloop-test"
CLIENT_SECRET = "test-secret-" + "x" * 20
CALLBACK = "http://127.0.0.1:8765/oauth/google/callback"
GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK]) as provider:
        yield provider


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=TIMEOUT) as client:
        yield client


def _authorization_request(idp: OidcProvider, *, scope: str = f"openid email {GMAIL_SEND}") -> tuple[str, str, str]:
    """A code flow request with S256 PKCE: (url, state, code_verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "access_type": "offline",  # Google's spelling; the provider ignores it
    }
    return f"{idp.authorization_url}?{urlencode(query)}", state, verifier


def _callback_params(url: str) -> dict[str, str]:
    assert url.startswith(CALLBACK + "?"), url
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _claims(jwt: str) -> dict[str, object]:
    payload = jwt.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return claims


def test_code_flow_with_pkce_refresh_and_revocation(idp: OidcProvider, browser: httpx.Client) -> None:
    url, state, verifier = _authorization_request(idp)

    params = _callback_params(sign_in(browser, url, login="jane@acme.test"))
    assert params["state"] == state
    tokens = httpx.post(
        idp.token_url,
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=TIMEOUT,
    )

    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert GMAIL_SEND in body["scope"].split()
    assert body["refresh_token"] and body["access_token"]
    claims = _claims(body["id_token"])
    assert claims["iss"] == idp.issuer and claims["aud"] == CLIENT_ID
    assert claims["email"] == "jane@acme.test" and claims["email_verified"] is True

    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    refreshed = httpx.post(idp.token_url, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT)
    assert refreshed.status_code == 200, refreshed.text
    idp.revoke(body["refresh_token"])
    after_revoke = httpx.post(idp.token_url, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET), timeout=TIMEOUT)
    assert after_revoke.status_code == 400
    assert after_revoke.json()["error"] == "invalid_grant"


def test_denied_consent_redirects_with_access_denied(idp: OidcProvider, browser: httpx.Client) -> None:
    url, state, _ = _authorization_request(idp)

    params = _callback_params(sign_in(browser, url, login="jane@acme.test", consent=False))

    assert params["error"] == "access_denied"
    assert params["state"] == state
    assert "code" not in params


def test_authorization_response_carries_iss(idp: OidcProvider, browser: httpx.Client) -> None:
    url, _, _ = _authorization_request(idp)

    params = _callback_params(sign_in(browser, url, login="jane@acme.test"))

    assert params["iss"] == idp.issuer
    assert idp.metadata["authorization_response_iss_parameter_supported"] is True


def test_unverified_login_gets_email_verified_false(idp: OidcProvider, browser: httpx.Client) -> None:
    url, _, verifier = _authorization_request(idp)
    params = _callback_params(sign_in(browser, url, login="unverified+bob@acme.test"))

    tokens = httpx.post(
        idp.token_url,
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=TIMEOUT,
    ).json()

    claims = _claims(tokens["id_token"])
    assert claims["email"] == "bob@acme.test" and claims["email_verified"] is False


def test_postgres_server_creates_a_database_and_answers() -> None:
    with PostgresServer() as pg:
        pg.create_database("leadloop_test")

        assert pg.url("leadloop_test") == (f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/leadloop_test")
        with psycopg.connect(pg.dsn("leadloop_test")) as connection:
            row = connection.execute("SELECT 1, current_database()").fetchone()
        assert row == (1, "leadloop_test")
