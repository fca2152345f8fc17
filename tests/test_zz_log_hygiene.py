"""Runs last for each backend: nothing the app logged during the whole suite may contain a secret.

The app ran at LOG_LEVEL=DEBUG, the worst case. The secrets are the configured ones (signing
secret, bot token, client secrets, encryption key) and every code and token the OIDC provider
issued during the connect tests.
"""

from __future__ import annotations

import httpx

from tests.support.db import Rows
from tests.support.flows import add_address
from tests.support.stack import Stack


def test_no_secret_was_ever_logged(stack: Stack, rows: Rows) -> None:
    # Make sure this backend's log has seen at least one full add + connect round trip.
    add_address(stack, rows)
    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    log = stack.log_path.read_text(errors="replace")
    assert "DEBUG" in log, "the app must have logged at DEBUG for this check to mean anything"
    assert "/slack/events" in log or "slack_bolt" in log or "leadloop" in log
    secrets = stack.secrets + stack.issued_secrets
    assert len(secrets) >= 5
    leaked = [secret[:6] + "…" for secret in secrets if secret and secret in log]
    assert leaked == [], f"secrets found in the app's log: {leaked}"
    for shape in ("xoxb-", "xapp-", "client_secret", "code_verifier", 'refresh_token":'):
        assert shape not in log, f"token-shaped text {shape!r} in the app's log"
