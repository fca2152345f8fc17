"""The error hierarchy callers catch, drawn as httpx draws its own:

    LeadLoopError
    ├── ValidationFailed        — bad input; carries one message per field
    └── ConnectError            — the connect flow refused (link, state, provider, identity)
        ├── LinkRejected        — the DM link is tampered, expired or used
        ├── StateRejected       — the OAuth state is unknown, used, expired or from another browser
        ├── ProviderRefused     — the provider said no (access_denied, invalid_grant, …)
        ├── IdentityMismatch    — the mailbox signed in is not the configured address
        └── ProviderUnavailable — the provider could not be reached or answered 5xx/429

Every ConnectError has a machine-readable `reason` (for the audit log and tests) and a
user-facing `message` that never contains a secret.
"""

from __future__ import annotations


class LeadLoopError(Exception):
    """Root of every error the domain raises on purpose."""


class ValidationFailed(LeadLoopError):
    """One or more fields are invalid; `errors` maps a field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class ConnectError(LeadLoopError):
    """The connect flow stopped; nothing was stored."""

    status_code = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class LinkRejected(ConnectError):
    """410 Gone for a link that was good once (used, expired); 400 for one that never was."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.status_code = 400 if reason == "link_invalid" else 410


class StateRejected(ConnectError):
    status_code = 400


class ProviderRefused(ConnectError):
    status_code = 400


class IdentityMismatch(ConnectError):
    status_code = 403

    def __init__(self, *, signed_in_as: str, expected: str) -> None:
        super().__init__(
            "identity_mismatch",
            f"You signed in as {signed_in_as}, but this link connects {expected}. "
            f"Sign in with {expected} instead; nothing was saved.",
        )
        self.signed_in_as = signed_in_as
        self.expected = expected


class ProviderUnavailable(ConnectError):
    status_code = 502
