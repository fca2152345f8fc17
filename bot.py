"""LeadLoop Bot's entry point.

python bot.py               migrate the database, then serve HTTP on PORT (and Socket Mode with SLACK_APP_TOKEN)
python bot.py migrate       only migrate the database
python bot.py rotate-keys   re-encrypt stored credentials under the first key in ENCRYPTION_KEYS
"""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError

from leadloop_bot.config import Settings, load_settings
from leadloop_bot.log_setup import configure_logging

logger = logging.getLogger("leadloop_bot")


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret value, so the log redactor can mask it wherever it appears."""
    values = [
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_client_secret,
        settings.slack_app_token,
        settings.encryption_keys,
        settings.google_client_secret,
        settings.microsoft_client_secret,
        settings.yahoo_client_secret,
    ]
    found = [value.get_secret_value() for value in values if value is not None]
    if settings.encryption_keys is not None:
        found += settings.encryption_keys.get_secret_value().split(",")
    return found


def describe_setup(settings: Settings) -> None:
    """Say plainly what works and what still needs configuring."""
    from leadloop_bot.providers import PROVIDERS

    if not settings.slack_bot_token:
        logger.warning(
            "Slack isn't configured yet. Create a Slack app from manifest.yml (api.slack.com/apps → Create New App → "
            "From a manifest), install it, then set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, plus SLACK_APP_TOKEN "
            "to use Socket Mode without a public URL. The connect pages still run at %s.",
            settings.public_url,
        )
    elif not settings.slack_signing_secret:
        logger.warning("SLACK_SIGNING_SECRET is not set: /slack/events refuses requests (Socket Mode still works).")
    missing = [provider.label for key, provider in PROVIDERS.items() if not settings.provider(key).configured]
    if missing:
        logger.warning(
            "Mail providers not configured (set <PROVIDER>_CLIENT_ID and _CLIENT_SECRET): %s", ", ".join(missing)
        )


def rotate_keys(settings: Settings) -> int:
    """Exit 0 when every credential is under the primary key, 1 when some can't be read with any key."""
    import asyncio

    from leadloop_bot.rotation import rotate_credentials
    from leadloop_bot.services import load_keyring
    from storage.db import Database

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            report = await rotate_credentials(db, load_keyring(settings))
        finally:
            await db.dispose()
        logger.info(
            "re-encrypted %d credentials; %d were already under the primary key; %d unreadable",
            report.rotated,
            report.already_current,
            len(report.unreadable),
        )
        return 1 if report.unreadable else 0

    return asyncio.run(run())


def main(argv: list[str]) -> int:
    try:
        settings = load_settings()
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"LeadLoop Bot can't start: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets_of(settings))

    from storage.migrate import upgrade

    upgrade(settings.database_url)
    if argv[1:2] == ["migrate"]:
        logger.info("database is up to date")
        return 0
    if argv[1:2] == ["rotate-keys"]:
        return rotate_keys(settings)
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2

    import uvicorn

    from handlers.asgi import create_app
    from leadloop_bot.services import build_services

    describe_setup(settings)
    app = create_app(build_services(settings))
    logger.info("LeadLoop Bot listening on %s:%s (public URL %s)", settings.host, settings.port, settings.public_url)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
