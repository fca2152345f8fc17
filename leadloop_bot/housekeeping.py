"""Background housekeeping: single-use rows outlive their purpose and would otherwise pile up."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage import connections
from storage.db import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

# Expired links and attempts are kept a while so a late click still says "expired", not "invalid";
# the audit trail keeps the history for good.
EXPIRED_RETENTION = timedelta(days=30)
# Slack retries a delivery for minutes, not days.
DELIVERY_RETENTION = timedelta(days=1)
INTERVAL = timedelta(hours=1)


async def purge_expired(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    async with db.session() as session:
        removed = await connections.purge_before(
            session=session, expired_before=now - EXPIRED_RETENTION, delivered_before=now - DELIVERY_RETENTION
        )
    if any(removed.values()):
        logger.info("housekeeping removed %s", removed)
    return removed


def build_scheduler(db: Database) -> AsyncIOScheduler:
    """One in-process scheduler; each job runs at most once at a time and skips missed runs.

    Every job here is idempotent, so several replicas running it at once is harmless.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        purge_expired,
        "interval",
        seconds=INTERVAL.total_seconds(),
        args=[db],
        id="housekeeping",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=300,
        next_run_time=datetime.now(UTC) + timedelta(minutes=1),
    )
    return scheduler
