"""The system under test, running for real: `python bot.py` as a subprocess, wired to local peers.

One Stack per database backend: a fake Slack Web API, two OpenID Connect providers (standing in
for Google and Microsoft, with different issuers so mix-ups can be tried), and the bot itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.fakes.slack_api import FakeSlack
from tests.peers.oidc_provider import OidcProvider
from tests.support.slack_requests import SlackRequests

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1111-2222-leadlooptesttoken"
TEAM_ID = "T0LEADLOOP"
ADMIN_ID = "UADMIN"
LISTED_ADMIN_ID = "ULISTED"
PROVIDER_SECRETS = {"google": "google-client-secret-abc123", "microsoft": "microsoft-client-secret-def456"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
    """Poll `/healthz` until the server answers 200; fail with its log if it exits or never gets there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy:\n{log_path.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Stack:
    name: str
    database_url: str
    log_path: Path
    encryption_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    port: int = field(default_factory=free_port)
    slack: FakeSlack = field(init=False)
    providers: dict[str, OidcProvider] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    issued_secrets: list[str] = field(default_factory=list)
    validate_slack_payloads: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def secrets(self) -> list[str]:
        """Every configured secret: none may ever show up in the app's log."""
        return [SIGNING_SECRET, BOT_TOKEN, self.encryption_key, *PROVIDER_SECRETS.values()]

    def start(self) -> Stack:
        self.slack = FakeSlack(bot_token=BOT_TOKEN, team_id=TEAM_ID, validate=self.validate_slack_payloads)
        self.slack.start()
        for key, path in (("google", ""), ("microsoft", "/tenant-microsoft/v2.0")):
            port = free_port()
            provider = OidcProvider(
                client_id=f"leadloop-{key}",
                client_secret=PROVIDER_SECRETS[key],
                redirect_uris=[f"{self.url}/oauth/callback/{key}"],
                port=port,
                issuer=f"http://127.0.0.1:{port}{path}",
            )
            provider.start()
            self.providers[key] = provider
        self.process = self._spawn()
        wait_healthy(self.url, self.process, self.log_path)
        return self

    def env(self, **overrides: str) -> dict[str, str]:
        google, microsoft = self.providers["google"], self.providers["microsoft"]
        env = {
            "PATH": os.environ.get("PATH", ""),
            "LEADLOOP_ENV_FILE": "/nonexistent",
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "LEADLOOP_DATA_DIR": str(self.log_path.parent / f"data-{self.name}"),
            "LOG_LEVEL": "DEBUG",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": self.slack.base_url,
            "ADMIN_USER_IDS": LISTED_ADMIN_ID,
            "ENCRYPTION_KEYS": self.encryption_key,
            "GOOGLE_CLIENT_ID": "leadloop-google",
            "GOOGLE_CLIENT_SECRET": PROVIDER_SECRETS["google"],
            "GOOGLE_METADATA_URL": google.metadata_url,
            "MICROSOFT_CLIENT_ID": "leadloop-microsoft",
            "MICROSOFT_CLIENT_SECRET": PROVIDER_SECRETS["microsoft"],
            "MICROSOFT_METADATA_URL": microsoft.metadata_url,
            "SUPPORT_EMAIL": "help@leadloop.test",
        }
        env.update(overrides)
        return env

    def _spawn(self) -> subprocess.Popen[bytes]:
        log = self.log_path.open("ab")
        return subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py")], cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )

    def requests(self) -> SlackRequests:
        return SlackRequests(app_url=self.url, signing_secret=SIGNING_SECRET, team_id=TEAM_ID, slack=self.slack)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        for provider in self.providers.values():
            provider.stop()
        self.slack.stop()
