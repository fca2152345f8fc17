"""`python bot.py` as an operator meets it: no Slack yet, Socket Mode, migrations, and refusing unsafe settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect

from tests.fakes.slack_api import FakeSlack
from tests.support.stack import ROOT, free_port, stop_process, wait_healthy


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "LEADLOOP_ENV_FILE": "/nonexistent",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "LEADLOOP_DATA_DIR": str(tmp_path / "data"),
        "PORT": str(free_port()),
        **extra,
    }


@pytest.fixture
def running_bot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """Start bot.py with the environment the test gives (via indirect parametrisation) and wait for /healthz."""
    env = bot_env(tmp_path, **getattr(request, "param", {}))
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_healthy(url, process, log_path)
        yield url, log_path
    finally:
        stop_process(process)


def test_with_no_configuration_the_bot_starts_and_says_what_to_configure(running_bot: tuple[str, Path]) -> None:
    url, log_path = running_bot
    health = httpx.get(f"{url}/healthz").json()
    assert health == {"ok": True, "database": "ok", "slack": False}
    events = httpx.post(f"{url}/slack/events", content=b"{}")
    assert events.status_code == 503 and "manifest.yml" in events.text
    log = log_path.read_text()
    assert "Slack isn't configured yet" in log and "SLACK_BOT_TOKEN" in log and "SLACK_APP_TOKEN" in log
    assert "ENCRYPTION_KEYS is not set" in log


def test_with_an_app_token_the_bot_also_opens_socket_mode(tmp_path: Path) -> None:
    with FakeSlack(bot_token="xoxb-socket-test") as slack:
        env = bot_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-socket-test",
            SLACK_APP_TOKEN="xapp-1-socket-test",
            SLACK_API_URL=slack.base_url,
        )
        process = subprocess.Popen(
            [sys.executable, "bot.py"], cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        try:
            opened = slack.wait_for("apps.connections.open", timeout=20)[0]
            assert opened.token == "xapp-1-socket-test", "Socket Mode authenticates with the app-level token"
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=10)
    assert b"xapp-1-socket-test" not in stderr and b"xoxb-socket-test" not in stderr


def test_migrate_subcommand_builds_the_schema_and_is_repeatable(tmp_path: Path) -> None:
    env = bot_env(tmp_path)
    for _ in range(2):
        done = subprocess.run([sys.executable, "bot.py", "migrate"], cwd=ROOT, env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
    tables = set(inspect(create_engine(env["DATABASE_URL"])).get_table_names())
    assert {
        "outbound_address",
        "credential",
        "oauth_attempt",
        "connect_link",
        "audit_event",
        "alembic_version",
    } <= tables


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"LEADLOOP_ENV": "production", "PUBLIC_URL": "https://bot.example"}, "ENCRYPTION_KEYS is required"),
        (
            {
                "LEADLOOP_ENV": "production",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "PUBLIC_URL": "http://bot.example",
            },
            "PUBLIC_URL must be https://",
        ),
        (
            {
                "LEADLOOP_ENV": "production",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "PUBLIC_URL": "https://bot.example",
                "SLACK_BOT_TOKEN": "xoxb-no-secret",
            },
            "SLACK_SIGNING_SECRET is required",
        ),
        ({"ENCRYPTION_KEYS": "not-a-fernet-key"}, "must be comma-separated Fernet keys"),
    ],
)
def test_unsafe_or_malformed_settings_stop_start_up(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "bot.py"], cwd=ROOT, env=bot_env(tmp_path, **extra), capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert message in done.stderr.decode()
    assert b"not-a-fernet-key" not in done.stderr and b"xoxb-no-secret" not in done.stderr
