"""Spent single-use rows are purged on a schedule; live ones are never touched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from leadloop_bot.housekeeping import build_scheduler, purge_expired
from storage.db import Database
from storage.models import ConnectLink, ProcessedDelivery
from tests.support.db import Rows
from tests.support.flows import add_address
from tests.support.stack import Stack


def test_expired_links_and_old_deliveries_go_and_fresh_ones_stay(stack: Stack, rows: Rows) -> None:
    old, fresh = add_address(stack, rows), add_address(stack, rows)
    long_ago = datetime.now(UTC) - timedelta(days=31)
    rows.set(ConnectLink, {"address_id": old.row.id}, expires_at=long_ago)
    with rows.engine.begin() as connection:
        connection.execute(
            ProcessedDelivery.__table__.insert().values(key="event:EvOLD-" + old.row.id, received_at=long_ago)
        )

    async def purge() -> dict[str, int]:
        db = Database(stack.database_url)
        try:
            return await purge_expired(db)
        finally:
            await db.dispose()

    removed = asyncio.run(purge())
    assert removed["connect_links"] >= 1 and removed["slack_deliveries"] >= 1
    assert rows.all(ConnectLink, address_id=old.row.id) == []
    assert len(rows.all(ConnectLink, address_id=fresh.row.id)) == 1
    assert rows.all(ProcessedDelivery, key="event:EvOLD-" + old.row.id) == []


def test_the_job_is_scheduled_safely() -> None:
    async def jobs() -> list:
        db = Database("sqlite://")
        scheduler = build_scheduler(db)
        scheduler.start(paused=True)
        try:
            return scheduler.get_jobs()
        finally:
            scheduler.shutdown(wait=False)
            await db.dispose()

    (job,) = asyncio.run(jobs())
    assert job.id == "housekeeping" and job.max_instances == 1 and job.coalesce is True
