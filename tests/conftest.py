"""Session-wide peers. Every test that takes `stack` runs twice: against SQLite and against PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.postgres import PostgresServer
from tests.support.db import Rows
from tests.support.stack import ADMIN_ID, LISTED_ADMIN_ID, TEAM_ID, Stack

MEMBERS = {
    "UJANE": {"real_name": "Jane Doe", "name": "jane"},
    "UBOB": {"real_name": "Bob Roe", "name": "bob"},
    "UCARL": {"real_name": "Carl Poe", "name": "carl"},
}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        server.create_database("leadloop")
        yield server


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp(f"stack-{request.param}")
    if request.param == "postgresql":
        database_url = request.getfixturevalue("postgres").url("leadloop")
    else:
        database_url = f"sqlite:///{workdir / 'leadloop.db'}"
    running = Stack(name=request.param, database_url=database_url, log_path=workdir / "bot.log")
    running.start()
    _people(running)
    yield running
    running.stop()


def _people(stack: Stack) -> None:
    slack = stack.slack
    slack.add_user(ADMIN_ID, team_id=TEAM_ID, name="ada", real_name="Ada Admin", is_admin=True)
    slack.add_user(LISTED_ADMIN_ID, team_id=TEAM_ID, name="lis", real_name="Lis Listed")
    for user_id, person in MEMBERS.items():
        slack.add_user(user_id, team_id=TEAM_ID, **person)
    slack.add_user("UROBOT", team_id=TEAM_ID, name="robot", is_bot=True)
    slack.add_user("UGONE", team_id=TEAM_ID, name="gone", deleted=True)
    slack.add_user("UOUTSIDER", team_id="T0ELSEWHERE", name="outsider", is_stranger=True)


@pytest.fixture
def rows(stack: Stack) -> Rows:
    return Rows(stack.database_url)


@pytest.fixture(autouse=True)
def _slack_payloads_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, the bot must never have sent Slack a payload Slack would reject."""
    yield
    if "stack" in request.fixturenames:
        stack: Stack = request.getfixturevalue("stack")
        try:
            stack.slack.assert_no_validation_errors()
        finally:
            stack.slack.reset()
