"""The project's own guard rails: pinned dependencies, no known typosquats, lint clean."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPOSQUATS = {"cryptography-fernet", "slack-bolt-python", "python-slack-sdk", "authlib-client"}


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-r"))]


def test_every_dependency_is_pinned_and_none_is_a_known_typosquat() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in requirement_lines(name):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.\-]*", line), f"{name}: pin exactly: {line}"
            assert line.split("==")[0].split("[")[0].lower() not in TYPOSQUATS, line
    runtime = {line.split("==")[0].split("[")[0].lower() for line in requirement_lines("requirements.txt")}
    assert {"slack-bolt", "slack-sdk", "sqlmodel", "authlib", "httpx", "apscheduler", "cryptography"} <= runtime


def test_the_code_passes_ruff() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_type_checks() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
