"""The mailbox providers: what each is called, which scopes it needs, and how its consent is asked.

Scopes are the least that let LeadLoop read messages and settings and send on the user's behalf
(RFC 9700 §2.3), plus `openid email` so the callback can check which mailbox signed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    scopes: tuple[str, ...]
    access_summary: str
    extra_authorize_params: dict[str, str] = field(default_factory=dict)


PROVIDERS: dict[str, Provider] = {
    provider.key: provider
    for provider in (
        Provider(
            key="google",
            label="Gmail / Google Workspace",
            scopes=(
                "openid",
                "email",
                "https://www.googleapis.com/auth/gmail.readonly",
                "https://www.googleapis.com/auth/gmail.send",
            ),
            access_summary="read your messages and mail settings, and send email on your behalf",
            # Google issues a refresh token only for offline access, and again only on fresh consent.
            extra_authorize_params={"access_type": "offline", "prompt": "consent"},
        ),
        Provider(
            key="microsoft",
            label="Microsoft 365 / Outlook",
            scopes=("openid", "email", "offline_access", "Mail.Read", "MailboxSettings.Read", "Mail.Send"),
            access_summary="read your messages and mailbox settings, and send email on your behalf",
            extra_authorize_params={"prompt": "consent"},
        ),
        Provider(
            key="yahoo",
            label="Yahoo Mail",
            scopes=("openid", "email", "mail-r", "mail-w"),
            access_summary="read your messages and send email on your behalf",
            extra_authorize_params={"prompt": "consent"},
        ),
    )
}


def get_provider(key: str) -> Provider | None:
    return PROVIDERS.get(key)
