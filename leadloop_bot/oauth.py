"""The connect flow: from the DM link to a stored, encrypted credential.

    begin()  — Continue was pressed on the link page: spend the link, create an OAuthAttempt
               (state, PKCE S256 verifier, nonce, bound to this browser and this provider),
               and return the provider's authorization URL.
    finish() — the provider redirected back to /oauth/callback/{provider}: check state, browser,
               provider and `iss` (mix-up defence, RFC 9700 §4.4), exchange the code, verify the
               ID token and that the mailbox is the configured one, then store the credential.

Nothing is stored unless every check passes. The state is spent before the code is exchanged,
so a replayed callback is refused before any token request.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlmodel.ext.asyncio.session import AsyncSession

from leadloop_bot.config import Settings
from leadloop_bot.crypto import CiphertextRejected, Keyring, digest, random_token
from leadloop_bot.errors import (
    ConnectError,
    IdentityMismatch,
    ProviderRefused,
    ProviderUnavailable,
    StateRejected,
)
from leadloop_bot.links import LinkSigner, resolve_link, spend_link
from leadloop_bot.oidc import ProviderMetadata, verify_id_token
from leadloop_bot.providers import Provider, get_provider
from storage import addresses as address_queries
from storage import connections
from storage.audit import add_event
from storage.db import Database
from storage.models import AddressStatus, Credential, OAuthAttempt, OutboundAddress, new_id, utcnow

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_IDENTITY_SCOPES = frozenset({"openid", "email", "profile", "offline_access"})

_PROVIDER_ERRORS = {
    "access_denied": "You cancelled the sign-in, so nothing was connected.",
    "consent_required": "The provider needs you to approve access; nothing was connected.",
    "interaction_required": "The provider needs you to finish signing in; nothing was connected.",
    "login_required": "The provider needs you to sign in; nothing was connected.",
}


@dataclass(frozen=True)
class BegunAttempt:
    authorization_url: str
    browser_secret: str


@dataclass(frozen=True)
class Connected:
    address: OutboundAddress
    signed_in_as: str


class ConnectFailed(Exception):
    """A ConnectError that happened after the attempt was known, so the caller can tell the user in Slack."""

    def __init__(self, error: ConnectError, address: OutboundAddress | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.address = address


class ConnectFlow:
    def __init__(
        self, *, settings: Settings, db: Database, keyring: Keyring, signer: LinkSigner, metadata: ProviderMetadata
    ) -> None:
        self._settings = settings
        self._db = db
        self._keyring = keyring
        self._signer = signer
        self._metadata = metadata

    def redirect_uri(self, provider: str) -> str:
        """One fixed callback per provider: the mix-up defence compares it with the stored attempt."""
        return f"{self._settings.public_url}/oauth/callback/{provider}"

    async def begin(self, *, token: str, browser_secret: str | None) -> BegunAttempt:
        """Spend the link and mint an authorization URL; all-or-nothing."""
        async with self._db.session() as session:
            resolved = await resolve_link(session=session, signer=self._signer, token=token)
            provider = self._provider(resolved.address.provider)
            document = await self._metadata.document(provider.key)
            await spend_link(session=session, link=resolved.link)
            state, verifier, nonce = random_token(), random_token(48), random_token(16)
            browser_secret = browser_secret or random_token()
            attempt_id = new_id()
            attempt = OAuthAttempt(
                id=attempt_id,
                workspace_id=resolved.address.workspace_id,
                state_hash=digest(state),
                browser_hash=digest(browser_secret),
                address_id=resolved.address.id,
                link_id=resolved.link.id,
                slack_user_id=resolved.link.slack_user_id,
                provider=provider.key,
                issuer=document["issuer"],
                nonce=nonce,
                code_verifier_ciphertext=self._keyring.encrypt({"verifier": verifier}, bound_to=attempt_id),
                expires_at=utcnow() + STATE_LIFETIME,
            )
            session.add(attempt)
            add_event(
                session=session,
                workspace_id=attempt.workspace_id,
                actor=attempt.slack_user_id,
                action="oauth.started",
                address_id=attempt.address_id,
                details={"provider": provider.key},
            )
            async with self._client(provider) as client:
                url, _ = client.create_authorization_url(
                    document["authorization_endpoint"],
                    state=state,
                    code_verifier=verifier,
                    nonce=nonce,
                    login_hint=resolved.address.email,
                    **provider.extra_authorize_params,
                )
        logger.info("connect attempt %s started for address %s at %s", attempt.id, attempt.address_id, provider.key)
        return BegunAttempt(authorization_url=url, browser_secret=browser_secret)

    async def finish(self, *, provider_key: str, params: Mapping[str, str], browser_secret: str | None) -> Connected:
        """Complete the attempt named by `state`. Raises StateRejected (nothing known) or ConnectFailed."""
        attempt = await self._claim_attempt(provider_key, params.get("state"), browser_secret)
        try:
            return await self._complete(attempt, params)
        except ConnectError as error:
            async with self._db.session() as session:
                address = await address_queries.get_address(
                    session=session, workspace_id=attempt.workspace_id, address_id=attempt.address_id
                )
                add_event(
                    session=session,
                    workspace_id=attempt.workspace_id,
                    actor=attempt.slack_user_id,
                    action="oauth.failed",
                    address_id=attempt.address_id,
                    details={"provider": attempt.provider, "reason": error.reason},
                )
            raise ConnectFailed(error, address) from error

    async def _claim_attempt(self, provider_key: str, state: str | None, browser_secret: str | None) -> OAuthAttempt:
        """Find and spend the attempt, in its own committed transaction, before anything else happens."""
        if not state:
            raise StateRejected("state_missing", "This sign-in response is incomplete. Start again from your Slack DM.")
        async with self._db.session() as session:
            attempt = await connections.get_attempt_by_state(session=session, state_hash=digest(state))
            if attempt is None:
                raise StateRejected(
                    "state_unknown", "This sign-in response doesn't match any request. Start again from your Slack DM."
                )
            if attempt.used_at is not None:
                raise StateRejected(
                    "state_used", "This sign-in response was already used. Start again from your Slack DM."
                )
            if attempt.expires_at <= utcnow():
                raise StateRejected(
                    "state_expired", "This sign-in took longer than 10 minutes. Start again from your Slack DM."
                )
            if not browser_secret or not hmac.compare_digest(digest(browser_secret), attempt.browser_hash):
                raise StateRejected(
                    "browser_mismatch",
                    "This sign-in was started in a different browser. Open the link from Slack again in this browser.",
                )
            if attempt.provider != provider_key:
                raise StateRejected("provider_mismatch", "This sign-in response came back from the wrong provider.")
            if not await connections.claim_attempt(session=session, attempt_id=attempt.id, now=utcnow()):
                raise StateRejected(
                    "state_used", "This sign-in response was already used. Start again from your Slack DM."
                )
        return attempt

    async def _complete(self, attempt: OAuthAttempt, params: Mapping[str, str]) -> Connected:
        if "error" in params:
            error_code = params["error"]
            raise ProviderRefused(
                error_code, _PROVIDER_ERRORS.get(error_code, "The provider refused the sign-in; nothing was connected.")
            )
        provider = self._provider(attempt.provider)
        document = await self._metadata.document(provider.key)
        issuer = params.get("iss")
        if issuer is None and document.get("authorization_response_iss_parameter_supported"):
            raise ProviderRefused("issuer_missing", "The sign-in response didn't say which provider sent it.")
        if issuer is not None and issuer != attempt.issuer:
            raise ProviderRefused(
                "issuer_mismatch", "The sign-in response came from a different provider than expected."
            )
        code = params.get("code")
        if not code:
            raise ProviderRefused("code_missing", "The sign-in response is incomplete; nothing was connected.")
        try:
            verifier = self._keyring.decrypt(attempt.code_verifier_ciphertext, bound_to=attempt.id)["verifier"]
        except CiphertextRejected as exc:  # the key was retired mid-flow
            raise ConnectError(
                "verifier_unreadable", "This sign-in can't be finished. Start again from your Slack DM."
            ) from exc
        logger.debug("exchanging the authorization code for attempt %s", attempt.id)
        token = await self._exchange(provider, document, code=code, verifier=verifier)
        claims = await verify_id_token(
            metadata=self._metadata,
            provider=provider.key,
            id_token=token["id_token"],
            client_id=self._client_id(provider),
            nonce=attempt.nonce,
            access_token=token.get("access_token"),
        )
        async with self._db.session() as session:
            address = await address_queries.get_address(
                session=session, workspace_id=attempt.workspace_id, address_id=attempt.address_id
            )
            if address is None or address.assigned_user_id != attempt.slack_user_id:
                raise ProviderRefused("address_changed", "This address was removed or reassigned while you signed in.")
            signed_in_as = _mailbox(claims)
            if not _vouched(claims) or signed_in_as != address.email:
                await self._revoke_quietly(provider, document, token)
                raise IdentityMismatch(signed_in_as=_describe(signed_in_as, claims), expected=address.email)
            _require_scopes(provider, token)
            await self._store_credential(session, address, provider, token, subject=str(claims["sub"]))
        logger.info("address %s connected through %s (attempt %s)", address.id, provider.key, attempt.id)
        return Connected(address=address, signed_in_as=signed_in_as)

    async def _exchange(
        self, provider: Provider, document: dict[str, Any], *, code: str, verifier: str
    ) -> dict[str, Any]:
        """Trade the code for tokens once; an ambiguous failure is never retried with the same code (RFC 9700 §4.5)."""
        try:
            async with self._client(provider) as client:
                token = await client.fetch_token(
                    document["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=verifier
                )
        except OAuthError as exc:
            raise ProviderRefused(
                exc.error or "token_error", "The provider rejected the sign-in code. Start again from your Slack DM."
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                "provider_unreachable", "The provider couldn't be reached. Try again in a minute."
            ) from exc
        except ValueError as exc:
            raise ProviderUnavailable(
                "token_malformed", "The provider sent an unreadable answer. Try again in a minute."
            ) from exc
        if not isinstance(token.get("access_token"), str) or not isinstance(token.get("id_token"), str):
            raise ProviderRefused("token_malformed", "The provider's answer was missing the tokens we need.")
        return dict(token)

    async def _store_credential(
        self,
        session: AsyncSession,
        address: OutboundAddress,
        provider: Provider,
        token: dict[str, Any],
        *,
        subject: str,
    ) -> None:
        """Encrypt and store the tokens and mark the address connected, in the caller's transaction."""
        now = utcnow()
        expires_at = token.get("expires_at")
        secret = {
            "access_token": token["access_token"],
            "refresh_token": token.get("refresh_token"),
            "token_type": token.get("token_type", "Bearer"),
            "expires_at": expires_at,
        }
        credential = Credential(
            address_id=address.id,
            workspace_id=address.workspace_id,
            connector=provider.key,
            ciphertext=self._keyring.encrypt(secret, bound_to=address.id),
            key_id=self._keyring.primary_key_id,
            subject=subject,
            scopes=str(token.get("scope") or " ".join(provider.scopes)),
            access_expires_at=None,
            updated_at=now,
        )
        if isinstance(expires_at, (int, float)):
            credential.access_expires_at = datetime.fromtimestamp(expires_at, UTC)
        await session.merge(credential)
        previous_status = address.status
        address.status = AddressStatus.ACTIVE if address.first_sent_at else AddressStatus.CONNECTED
        address.status_reason = None
        address.invalid_since = None
        address.connected_at = now
        address.version += 1
        session.add(address)
        add_event(
            session=session,
            workspace_id=address.workspace_id,
            actor=address.assigned_user_id,
            action="address.connected",
            address_id=address.id,
            details={"provider": provider.key, "from_status": str(previous_status), "to_status": str(address.status)},
        )

    async def _revoke_quietly(self, provider: Provider, document: dict[str, Any], token: dict[str, Any]) -> None:
        """Tokens for the wrong mailbox are discarded, and revoked at the provider when it supports that."""
        endpoint = document.get("revocation_endpoint")
        if not endpoint:
            return
        try:
            async with self._client(provider) as client:
                await client.revoke_token(endpoint, token=token.get("refresh_token") or token["access_token"])
        except (OAuthError, httpx.HTTPError):
            logger.warning("could not revoke tokens for a mismatched mailbox at %s", provider.key)

    def _provider(self, key: str) -> Provider:
        provider = get_provider(key)
        if provider is None or not self._settings.provider(key).configured:
            raise ConnectError("provider_not_configured", "This mail provider isn't set up on LeadLoop Bot any more.")
        return provider

    def _client_id(self, provider: Provider) -> str:
        client_id = self._settings.provider(provider.key).client_id
        assert client_id
        return client_id

    def _client(self, provider: Provider) -> AsyncOAuth2Client:
        configured = self._settings.provider(provider.key)
        assert configured.client_secret is not None
        return AsyncOAuth2Client(
            client_id=configured.client_id,
            client_secret=configured.client_secret.get_secret_value(),
            scope=" ".join(provider.scopes),
            redirect_uri=self.redirect_uri(provider.key),
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name, not a secret)
            timeout=HTTP_TIMEOUT,
        )


def _mailbox(claims: dict[str, Any]) -> str:
    """The signed-in mailbox, lower-cased, as the ID token names it."""
    email = claims.get("email") or claims.get("preferred_username")
    return email.strip().lower() if isinstance(email, str) else ""


def _vouched(claims: dict[str, Any]) -> bool:
    """A provider that says the address is unverified is not vouching that this person owns it."""
    return claims.get("email_verified") is not False


def _describe(mailbox: str, claims: dict[str, Any]) -> str:
    if not mailbox:
        return "an account with no email address"
    return mailbox if _vouched(claims) else f"{mailbox} (not verified by the provider)"


def _require_scopes(provider: Provider, token: dict[str, Any]) -> None:
    """Providers with granular consent let users untick boxes; without send/read access the address is useless."""
    granted = token.get("scope")
    if not isinstance(granted, str):
        return
    missing = {scope for scope in provider.scopes if scope not in _IDENTITY_SCOPES} - set(granted.split())
    if missing:
        raise ProviderRefused(
            "scopes_missing",
            "You didn't grant all the access LeadLoop needs (reading and sending mail). Nothing was saved; "
            "start again and leave every box ticked.",
        )
