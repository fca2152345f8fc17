"""The short-lived member cache used for read-only decisions: one lookup per burst, failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from leadloop_bot.members import Member, RecentMembers

JANE = Member(user_id="UJANE", team_id="T1", name="Jane", is_admin=True)


@pytest.mark.asyncio
async def test_concurrent_callers_share_one_lookup() -> None:
    calls = 0

    async def load() -> Member:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return JANE

    cache = RecentMembers()
    results = await asyncio.gather(*(cache.get("T1", "UJANE", load) for _ in range(10)))
    assert results == [JANE] * 10 and calls == 1
    assert await cache.get("T1", "UJANE", load) is JANE and calls == 1
    await cache.get("T2", "UJANE", load)
    assert calls == 2, "another workspace is another entry"


@pytest.mark.asyncio
async def test_entries_expire_and_failures_are_not_remembered() -> None:
    outcomes: list[Member | Exception] = [RuntimeError("slack down"), JANE, JANE]

    async def load() -> Member:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = RecentMembers(ttl_seconds=0.05)
    with pytest.raises(RuntimeError):
        await cache.get("T1", "UJANE", load)
    assert await cache.get("T1", "UJANE", load) is JANE
    await asyncio.sleep(0.06)
    assert await cache.get("T1", "UJANE", load) is JANE
    assert outcomes == []
