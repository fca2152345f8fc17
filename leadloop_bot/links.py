"""Connect links: the signed, single-use, 24-hour URL DMed to the assigned user.

The token is an itsdangerous signature over the link's row id (Sentry's pattern for links sent
in Slack). The signature stops tampering and guessing; the row makes it single use, names the
address and the Slack user it was sent to, and lets a newer link retire an older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel.ext.asyncio.session import AsyncSession

from leadloop_bot.crypto import Keyring
from leadloop_bot.errors import LinkRejected
from storage import addresses as address_queries
from storage import connections
from storage.audit import add_event
from storage.models import ConnectLink, OutboundAddress, utcnow

LINK_LIFETIME = timedelta(hours=24)
_SALT = "leadloop.connect-link"


@dataclass(frozen=True)
class ResolvedLink:
    link: ConnectLink
    address: OutboundAddress


class LinkSigner:
    def __init__(self, keyring: Keyring, *, public_url: str) -> None:
        self._serializer = URLSafeTimedSerializer(keyring.derive(_SALT), salt=_SALT)
        self._public_url = public_url

    def url_for(self, link: ConnectLink) -> str:
        return f"{self._public_url}/oauth/start/{self._serializer.dumps({'link': link.id})}"

    def link_id(self, token: str) -> str:
        """The row id inside a genuine, unexpired token; LinkRejected otherwise."""
        try:
            payload = self._serializer.loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
        except SignatureExpired as exc:
            raise _expired() from exc
        except BadSignature as exc:
            raise LinkRejected("link_invalid", "This link isn't valid. Use the button in your Slack DM.") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("link"), str):
            raise LinkRejected("link_invalid", "This link isn't valid. Use the button in your Slack DM.")
        return payload["link"]


async def issue_link(*, session: AsyncSession, address: OutboundAddress, actor: str) -> ConnectLink:
    """A fresh link for the address's assigned user; older unused links stop working."""
    now = utcnow()
    await connections.retire_links(session=session, address_id=address.id, now=now)
    link = ConnectLink(
        workspace_id=address.workspace_id,
        address_id=address.id,
        slack_user_id=address.assigned_user_id,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(link)
    add_event(
        session=session,
        workspace_id=address.workspace_id,
        actor=actor,
        action="connect_link.issued",
        address_id=address.id,
        details={"sent_to": link.slack_user_id, "expires_at": link.expires_at.isoformat()},
    )
    return link


async def resolve_link(*, session: AsyncSession, signer: LinkSigner, token: str) -> ResolvedLink:
    """Look a token up without using it (GET of the landing page must change nothing)."""
    link = await connections.get_link(session=session, link_id=signer.link_id(token))
    if link is None:
        raise LinkRejected("link_invalid", "This link isn't valid. Use the button in your Slack DM.")
    if link.used_at is not None:
        raise LinkRejected(
            "link_used",
            "This link has already been used. If you didn't finish connecting, "
            "press “Send me a new link” in your Slack DM from LeadLoop Bot.",
        )
    if link.expires_at <= utcnow():
        raise _expired()
    address = await address_queries.get_address(
        session=session, workspace_id=link.workspace_id, address_id=link.address_id
    )
    if address is None or address.assigned_user_id != link.slack_user_id:
        raise LinkRejected("link_invalid", "This link no longer applies: the address was removed or reassigned.")
    return ResolvedLink(link=link, address=address)


async def spend_link(*, session: AsyncSession, link: ConnectLink) -> None:
    """Use the link up; a second use, even a concurrent one, is refused."""
    if not await connections.claim_link(session=session, link_id=link.id, now=utcnow()):
        raise LinkRejected("link_used", "This link has already been used.")


def _expired() -> LinkRejected:
    return LinkRejected(
        "link_expired",
        "This link has expired (links last 24 hours). Press “Send me a new link” in your Slack DM from LeadLoop Bot.",
    )
