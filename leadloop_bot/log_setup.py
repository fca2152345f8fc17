"""Logging that never carries a secret (ASVS 16.2.5).

Two layers: third-party loggers that print request bodies or PKCE verifiers at DEBUG (authlib,
httpx, slack_sdk) are held at WARNING whatever LOG_LEVEL says; and every record passes a filter
that masks Slack tokens, bearer headers and the configured secrets, in case one slips through.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable

_NOISY_LIBRARIES = (
    "authlib",
    "httpx",
    "httpcore",
    "slack_sdk",
    "slack_bolt",
    "aiohttp",
    "aiosqlite",
    "sqlalchemy",
    "urllib3",
    "asyncio",
)
_TOKEN_PATTERNS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|xwfp-[A-Za-z0-9-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+)"
)
MASK = "[redacted]"


class SecretRedactor(logging.Filter):
    """Masks known secret values and token-shaped strings in the final message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({value for value in secrets if value and len(value) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _TOKEN_PATTERNS.sub(MASK, message)
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, MASK)
        if record.exc_info:
            # Exceptions are rendered by the formatter; keep the type and a masked message only.
            record.exc_text = None
            exc_type, exc_value, _ = record.exc_info
            cleaned += f" [{exc_type.__name__ if exc_type else 'error'}: {self._mask(str(exc_value))}]"
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True

    def _mask(self, text: str) -> str:
        text = _TOKEN_PATTERNS.sub(MASK, text)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr in UTC, one line per record, through the redactor."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(SecretRedactor(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
