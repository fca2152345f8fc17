"""OpenID Connect discovery and ID-token checks, shared by every mailbox provider.

All three providers publish a discovery document, so endpoints and signing keys come from
there (RFC 9700 §2.6) and the issuer is pinned from it. ID tokens are verified with joserfc
and authlib's OIDC claim rules (signature, iss, aud, exp, nonce, at_hash).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from leadloop_bot.errors import ProviderRefused, ProviderUnavailable

METADATA_TTL_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 120


class ProviderMetadata:
    """Caches each provider's discovery document and JWKS. A cache, not state: any replica can rebuild it."""

    def __init__(self, http: httpx.AsyncClient, metadata_urls: dict[str, str]) -> None:
        self._http = http
        self._urls = metadata_urls
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}
        self._jwks: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    async def document(self, provider: str) -> dict[str, Any]:
        cached = self._documents.get(provider)
        if cached and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
            return cached[1]
        async with self._lock:
            document = await self._get_json(self._urls[provider])
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise ProviderUnavailable(
                        "provider_metadata", "The sign-in provider's configuration is incomplete."
                    )
            self._documents[provider] = (time.monotonic(), document)
            return document

    async def key_set(self, provider: str, *, refresh: bool = False) -> KeySet:
        if refresh or provider not in self._jwks:
            document = await self.document(provider)
            self._jwks[provider] = await self._get_json(document["jwks_uri"])
        return KeySet.import_key_set(self._jwks[provider])  # type: ignore[arg-type]

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                "provider_unreachable", "The sign-in provider can't be reached right now."
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable("provider_unreachable", "The sign-in provider isn't answering right now.")
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable("provider_metadata", "The sign-in provider sent an unreadable answer.") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable("provider_metadata", "The sign-in provider sent an unreadable answer.")
        return body


def expected_issuer(advertised: str, claims: dict[str, Any]) -> str:
    """The issuer a token must carry.

    Microsoft's `/common` discovery advertises `…/{tenantid}/v2.0`; the right check is not to skip
    `iss` but to fill the template from the token's own `tid` (authlib#605).
    """
    if "{tenantid}" in advertised:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not tenant:
            raise ProviderRefused("id_token_invalid", "The sign-in provider sent an ID token without a tenant.")
        return advertised.replace("{tenantid}", tenant)
    return advertised


async def verify_id_token(
    *,
    metadata: ProviderMetadata,
    provider: str,
    id_token: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
) -> dict[str, Any]:
    """Return the ID token's claims after checking signature, issuer, audience, expiry, nonce and at_hash."""
    document = await metadata.document(provider)
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in algorithms if alg != "none"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            token = jwt.decode(id_token, await metadata.key_set(provider), registry=registry)
        except JoseError:
            # The provider may have rotated its keys since we cached them.
            token = jwt.decode(id_token, await metadata.key_set(provider, refresh=True), registry=registry)
        claims = dict(token.claims)
        options = {
            "iss": {"essential": True, "value": expected_issuer(document["issuer"], claims)},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
        }
        CodeIDToken(
            claims, token.header, options, {"nonce": nonce, "client_id": client_id, "access_token": access_token}
        ).validate(leeway=CLOCK_LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        raise ProviderRefused("id_token_invalid", "The sign-in provider's answer could not be verified.") from exc
    return claims
