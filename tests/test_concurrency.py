"""Two people (or two retries) racing for the same thing: exactly one wins, the other is told why."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from storage.models import OAuthAttempt, OutboundAddress
from tests.support.db import Rows
from tests.support.flows import Browser, add_address, errors_of, open_form, submit_form, unique_email
from tests.support.stack import Stack


def test_the_same_address_submitted_five_times_at_once_is_stored_once(stack: Stack, rows: Rows) -> None:
    email = unique_email()
    views = [open_form(stack) for _ in range(5)]

    def submit(view: dict) -> dict[str, str]:
        return errors_of(
            submit_form(stack, view, email=email, assigned_user="UJANE", display_name="J", provider="google")
        )

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(submit, views))
    assert outcomes.count({}) == 1, outcomes
    assert all("already set up" in outcome["email"] for outcome in outcomes if outcome)
    assert len(rows.all(OutboundAddress, email=email)) == 1


def test_continue_pressed_twice_at_once_starts_one_attempt(stack: Stack, rows: Rows) -> None:
    added = add_address(stack, rows)
    browsers = [Browser.new() for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(lambda browser: browser.continue_from(added.connect_url).status_code, browsers))
    assert statuses == [303, 410, 410, 410]
    assert len(rows.all(OAuthAttempt, address_id=added.row.id)) == 1
