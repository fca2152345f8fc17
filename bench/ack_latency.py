"""How fast `/leadloop add-email` is acked, and how fast its modal opens, under a burst of concurrent commands.

Targets, one after another; each server process gets its own fake Slack Web API (tests.fakes.slack_api.FakeSlack):

* no-op: bench.bare_app's empty endpoint; the floor set by this client, uvicorn and Starlette alone;
* bare: bench.bare_app's bolt AsyncApp (same process as no-op), whose `/leadloop` only acks and opens a
  one-field modal;
* app-sqlite, app-postgresql: `python bot.py` started exactly as the tests start it
  (tests.support.stack.Stack), with LOG_LEVEL=INFO and the admin typing the command registered in the fake.

Per target: a warm-up burst of WARMUP concurrent commands (so connection pools are filled, as on a
server that has been running), then CONCURRENCY signed commands sent at once over
raw connections (repeated --rounds times). Per command:

* ack: send time → the HTTP 200 from /slack/events;
* views.open: send time → the `views.open` call carrying that command's trigger_id reaching the fake
  (FakeSlack stamps calls with time.time() as they arrive, so send times use time.time() too; the
  benchmark's fakes record without validating, so their CPU isn't charged to the bot);
* the server's CPU time (user + system, from /proc) over the burst and its follow-up calls, per command.

Every command must get HTTP 200 and open its modal without error (the fake expires a trigger_id after
3 s, as Slack does); failures are counted and listed, never dropped. The target is "p99 ack under
300 ms and within 1.5x the bare app", judged against the bare app measured in the same run. The
report exits 0 whether the app passes or not, and non-zero only if the benchmark itself crashes.

    .venv/bin/python -m bench.ack_latency [--rounds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs

from bench.bare_app import NOOP_PATH
from tests.fakes.slack_api import Call, FakeSlack
from tests.peers.postgres import PostgresServer
from tests.support.slack_requests import SlackRequests, sign
from tests.support.stack import (
    ADMIN_ID,
    BOT_TOKEN,
    ROOT,
    SIGNING_SECRET,
    TEAM_ID,
    Stack,
    free_port,
    stop_process,
    wait_healthy,
)

CONCURRENCY = 200
WARMUP = 50
HTTP_TIMEOUT_SECONDS = 30.0
VIEWS_OPEN_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.05
ACK_P99_LIMIT_MS = 300.0
RATIO_LIMIT = 1.5
FLOOR = "no-op"
BASELINE = "bare"


@dataclass
class InfoStack(Stack):
    """The tests' Stack, logging at INFO (DEBUG logging would be part of what is measured), with a
    fake Slack that records without validating (the tests validate every payload; here its CPU would
    be charged to the bot, since everything shares the machine's two cores)."""

    validate_slack_payloads: bool = False

    def env(self, **overrides: str) -> dict[str, str]:
        return super().env(**{"LOG_LEVEL": "INFO", **overrides})


@dataclass(frozen=True)
class Target:
    """A server to command; one that opens no modal (the no-op floor) is timed to its ack only."""

    name: str
    url: str
    pid: int
    slack: FakeSlack
    events_path: str = "/slack/events"
    opens_modal: bool = True

    def requests(self) -> SlackRequests:
        return SlackRequests(app_url=self.url, signing_secret=SIGNING_SECRET, team_id=TEAM_ID, slack=self.slack)


@dataclass(frozen=True)
class Sent:
    """One command as the client saw it; ack_ms only with an HTTP 200."""

    trigger_id: str
    at: float
    ack_ms: float | None
    error: str | None


@dataclass(frozen=True)
class Sample:
    """ack_ms is None without an HTTP 200; views_open_ms is None if views.open never arrived (a failed one counts)."""

    ack_ms: float | None
    views_open_ms: float | None
    error: str | None


@dataclass(frozen=True)
class Stats:
    p50: float
    p99: float
    max: float


@dataclass(frozen=True)
class Result:
    target: str
    sent: int
    errors: int
    error_kinds: dict[str, int]
    warmup_errors: int
    ack: Stats | None
    views_open: Stats | None
    cpu_ms_per_command: float


# Targets


@contextmanager
def bare_target(workdir: Path) -> Iterator[Target]:
    """bench.bare_app in a subprocess, against its own FakeSlack."""
    slack = FakeSlack(bot_token=BOT_TOKEN, team_id=TEAM_ID, validate=False).start()
    try:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": slack.base_url,
            "PORT": str(port),
        }
        log_path = workdir / "bare.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.bare_app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, process, log_path)
            yield Target(BASELINE, url, process.pid, slack)
        finally:
            stop_process(process)
    finally:
        slack.stop()


@contextmanager
def app_target(backend: str, database_url: str, workdir: Path) -> Iterator[Target]:
    """`python bot.py` as the tests run it, with the admin who types the command registered in the fake."""
    stack = InfoStack(name=backend, database_url=database_url, log_path=workdir / f"app-{backend}.log")
    try:
        stack.start()
        assert stack.process is not None
        stack.slack.add_user(ADMIN_ID, team_id=TEAM_ID, name="ada", real_name="Ada Admin", is_admin=True)
        yield Target(f"app-{backend}", stack.url, stack.process.pid, stack.slack)
    finally:
        stack.stop()


# Measuring


def cpu_ms(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def signed_request(target: Target, body: bytes) -> bytes:
    """The raw HTTP/1.1 request Slack would send: form body, timestamp and v0 signature."""
    host = target.url.removeprefix("http://")
    stamp = str(int(time.time()))
    head = (
        f"POST {target.events_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: {sign(SIGNING_SECRET, stamp, body)}\r\n\r\n"
    )
    return head.encode() + body


async def send(target: Target, body: bytes) -> Sent:
    """One command over its own connection, timed to the response's status line.

    A bare asyncio stream rather than an HTTP client library: the load generator shares the
    machine's two cores with the server, so its own CPU per request must stay far below the
    server's (httpx spent more than the bot did).
    """
    trigger_id = parse_qs(body.decode())["trigger_id"][0]
    request = signed_request(target, body)
    host, port = target.url.removeprefix("http://").split(":")
    at = time.time()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), HTTP_TIMEOUT_SECONDS)
        writer.write(request)
        status_line = await asyncio.wait_for(reader.readline(), HTTP_TIMEOUT_SECONDS)
        acked = time.time()
        await reader.read()
        writer.close()
    except (OSError, TimeoutError) as exc:
        return Sent(trigger_id, at, None, type(exc).__name__)
    status = status_line.split()[1:2]
    if status != [b"200"]:
        return Sent(trigger_id, at, None, f"HTTP {status_line.decode(errors='replace').strip()}")
    return Sent(trigger_id, at, (acked - at) * 1000, None)


async def views_open_calls(slack: FakeSlack, triggers: set[str]) -> dict[str, Call]:
    """The views.open call per trigger_id, polled until all arrived or the timeout passed."""
    deadline = time.monotonic() + VIEWS_OPEN_TIMEOUT_SECONDS
    while True:
        found = {c.params["trigger_id"]: c for c in slack.calls("views.open") if c.params.get("trigger_id") in triggers}
        if len(found) == len(triggers) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL_SECONDS)


def sample(sent: Sent, call: Call | None) -> Sample:
    if call is None:
        return Sample(sent.ack_ms, None, sent.error or "views.open never arrived")
    error = sent.error or (f"views.open: {call.error}" if call.error else None)
    return Sample(sent.ack_ms, (call.at - sent.at) * 1000, error)


async def burst(target: Target, n: int) -> list[Sample]:
    """n commands sent at once; each body carries a fresh trigger_id minted by the fake."""
    requests = target.requests()
    bodies = [requests.command_body("add-email", user_id=ADMIN_ID) for _ in range(n)]
    sent = await asyncio.gather(*(send(target, body) for body in bodies))
    if not target.opens_modal:
        return [Sample(s.ack_ms, None, s.error) for s in sent]
    calls = await views_open_calls(target.slack, {s.trigger_id for s in sent})
    return [sample(s, calls.get(s.trigger_id)) for s in sent]


async def measure(target: Target, rounds: int) -> Result:
    warmup = await burst(target, WARMUP)
    cpu_before = cpu_ms(target.pid)
    samples = [s for _ in range(rounds) for s in await burst(target, CONCURRENCY)]
    cpu_per_command = (cpu_ms(target.pid) - cpu_before) / len(samples)
    return summarize(target.name, samples, warmup, cpu_per_command)


# Reporting


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(values: Sequence[float | None]) -> Stats | None:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    return Stats(p50=percentile(ordered, 0.50), p99=percentile(ordered, 0.99), max=ordered[-1])


def summarize(name: str, samples: list[Sample], warmup: list[Sample], cpu_per_command: float) -> Result:
    kinds: dict[str, int] = {}
    for s in samples:
        if s.error is not None:
            kinds[s.error] = kinds.get(s.error, 0) + 1
    return Result(
        target=name,
        sent=len(samples),
        errors=sum(kinds.values()),
        error_kinds=kinds,
        warmup_errors=sum(s.error is not None for s in warmup),
        ack=stats([s.ack_ms for s in samples]),
        views_open=stats([s.views_open_ms for s in samples]),
        cpu_ms_per_command=cpu_per_command,
    )


def ratio(result: Result, baseline: Result | None, part: str) -> float | None:
    """result's p99 over the bare app's, for "ack" or "views_open"."""
    if result.target == FLOOR:
        return None
    mine, base = getattr(result, part), getattr(baseline, part) if baseline else None
    return mine.p99 / base.p99 if mine and base and base.p99 > 0 else None


def verdict(result: Result, baseline: Result | None) -> str:
    if result.target == FLOOR:
        return "harness floor (empty handler)"
    if result.target == BASELINE:
        return "baseline"
    ack_ratio = ratio(result, baseline, "ack")
    reasons = []
    if result.errors:
        reasons.append(f"{result.errors} errors")
    if result.ack is None or result.ack.p99 >= ACK_P99_LIMIT_MS:
        reasons.append(f"p99 ack >= {ACK_P99_LIMIT_MS:.0f} ms")
    if ack_ratio is None or ack_ratio > RATIO_LIMIT:
        reasons.append(f"p99 ack > {RATIO_LIMIT}x bare")
    return "PASS" if not reasons else "FAIL (" + ", ".join(reasons) + ")"


def figures(results: list[Result], cpus: int | None, rounds: int) -> dict[str, object]:
    """What --json writes: every result with its ratios to the bare app and its verdict."""
    baseline = next((r for r in results if r.target == BASELINE), None)
    rows = [
        asdict(r)
        | {
            "ack_p99_ratio": ratio(r, baseline, "ack"),
            "views_open_p99_ratio": ratio(r, baseline, "views_open"),
            "verdict": verdict(r, baseline),
        }
        for r in results
    ]
    return {"cpu_count": cpus, "concurrency": CONCURRENCY, "rounds": rounds, "warmup": WARMUP, "results": rows}


def cells(stat: Stats | None) -> list[str]:
    return [f"{v:.1f}" for v in (stat.p50, stat.p99, stat.max)] if stat else ["-", "-", "-"]


def render(results: list[Result]) -> str:
    baseline = next((r for r in results if r.target == BASELINE), None)
    header = [
        "target",
        "ok/sent",
        "ack p50",
        "ack p99",
        "ack max",
        "v.open p50",
        "v.open p99",
        "v.open max",
        "ack p99/bare",
        "v.open p99/bare",
        "cpu ms/cmd",
        "verdict",
    ]
    rows = [header]
    for r in results:
        ratios = [ratio(r, baseline, part) for part in ("ack", "views_open")]
        rows.append(
            [
                r.target,
                f"{r.sent - r.errors}/{r.sent}",
                *cells(r.ack),
                *cells(r.views_open),
                *(f"{x:.2f}x" if x is not None else "-" for x in ratios),
                f"{r.cpu_ms_per_command:.2f}",
                verdict(r, baseline),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]
    for r in results:
        lines += [f"  {r.target}: {count} x {kind}" for kind, count in r.error_kinds.items()]
        if r.warmup_errors:
            lines.append(f"  {r.target}: {r.warmup_errors} of {WARMUP} warm-up commands failed")
    return "\n".join(lines)


# Running


def run_all(workdir: Path, rounds: int) -> list[Result]:
    results = []
    with bare_target(workdir) as bare:
        floor = replace(bare, name=FLOOR, events_path=NOOP_PATH, opens_modal=False)
        results.append(asyncio.run(measure(floor, rounds)))
        results.append(asyncio.run(measure(bare, rounds)))
    with app_target("sqlite", f"sqlite:///{workdir / 'leadloop.db'}", workdir) as app:
        results.append(asyncio.run(measure(app, rounds)))
    with PostgresServer() as postgres:
        postgres.create_database("leadloop")
        with app_target("postgresql", postgres.url("leadloop"), workdir) as app:
            results.append(asyncio.run(measure(app, rounds)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        choices=range(1, 11),
        metavar="1-10",
        help=f"bursts of {CONCURRENCY} per target, pooled (default 1)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="leadloop-bench-"))
    results = run_all(workdir, args.rounds)
    cpus = os.cpu_count()
    print(
        f"/leadloop add-email, {args.rounds} x {CONCURRENCY} concurrent commands per target after {WARMUP} warm-up; "
        f"ms; cpu_count={cpus}; target: p99 ack < {ACK_P99_LIMIT_MS:.0f} ms and <= {RATIO_LIMIT}x bare"
    )
    print(render(results))
    print(f"logs: {workdir}")
    if args.json:
        args.json.write_text(json.dumps(figures(results, cpus, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
