"""ID-token verification, one faulty field at a time (the OpenID conformance suite's RP pattern).

The provider is an httpx MockTransport serving discovery and JWKS, so each test can hand the
verifier exactly one thing that is wrong; the full flow runs against a real provider elsewhere.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from leadloop_bot.errors import ProviderRefused
from leadloop_bot.oidc import ProviderMetadata, verify_id_token

ISSUER = "https://accounts.provider.example"
CLIENT_ID = "leadloop-client"
NONCE = "n-0S6_WzA2Mj"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "current"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "current"}, private=True)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "1234",
        "email": "jane@acme.example",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def signed(payload: dict[str, Any], key: RSAKey = SIGNING_KEY) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, payload, key)


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(payload)}."


def provider(keys: Callable[[], list[RSAKey]]) -> ProviderMetadata:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in keys()]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return ProviderMetadata(http, {"google": f"{ISSUER}/.well-known/openid-configuration"})


async def verify(token: str, metadata: ProviderMetadata | None = None) -> dict[str, Any]:
    return await verify_id_token(
        metadata=metadata or provider(lambda: [SIGNING_KEY]),
        provider="google",
        id_token=token,
        client_id=CLIENT_ID,
        nonce=NONCE,
        access_token=None,
    )


@pytest.mark.asyncio
async def test_a_good_token_yields_its_claims() -> None:
    assert (await verify(signed(claims())))["email"] == "jane@acme.example"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "token"),
    [
        ("wrong issuer", lambda: signed(claims(iss="https://evil.example"))),
        ("wrong audience", lambda: signed(claims(aud="someone-else"))),
        ("expired", lambda: signed(claims(exp=int(time.time()) - 600, iat=int(time.time()) - 900))),
        ("wrong nonce", lambda: signed(claims(nonce="replayed"))),
        ("missing nonce", lambda: signed(claims(nonce=None))),
        ("missing sub", lambda: signed(claims(sub=None))),
        ("alg none", lambda: unsigned(claims())),
        ("signed by another key", lambda: signed(claims(), OTHER_KEY)),
        (
            "HS256 with the public key as secret",
            lambda: jwt.encode(
                {"alg": "HS256", "kid": "current"},
                claims(),
                OctKey.import_key(json.dumps(SIGNING_KEY.as_dict(private=False)).encode()),
            ),
        ),
        ("not a JWT", lambda: "not-a-jwt"),
    ],
)
async def test_a_token_with_one_fault_is_refused(fault: str, token: Callable[[], str]) -> None:
    with pytest.raises(ProviderRefused) as refused:
        await verify(token())
    assert refused.value.reason == "id_token_invalid", fault


@pytest.mark.asyncio
async def test_a_rotated_signing_key_is_fetched_again() -> None:
    keys = [SIGNING_KEY]
    metadata = provider(lambda: keys)
    await verify(signed(claims()), metadata)
    rotated = RSAKey.generate_key(2048, parameters={"kid": "next"}, private=True)
    keys.append(rotated)
    assert (await verify(signed(claims(), rotated), metadata))["sub"] == "1234"
