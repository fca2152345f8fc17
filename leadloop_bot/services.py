"""The process's shared parts, built once from settings and handed to every door (Slack, web)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from leadloop_bot.config import Environment, Settings
from leadloop_bot.crypto import Keyring
from leadloop_bot.links import LinkSigner
from leadloop_bot.members import RecentMembers
from leadloop_bot.oauth import HTTP_TIMEOUT, ConnectFlow
from leadloop_bot.oidc import ProviderMetadata
from leadloop_bot.providers import PROVIDERS
from storage.db import Database

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    keyring: Keyring
    http: httpx.AsyncClient
    signer: LinkSigner
    metadata: ProviderMetadata
    connect: ConnectFlow
    recent_members: RecentMembers

    @property
    def configured_providers(self) -> frozenset[str]:
        return frozenset(key for key in PROVIDERS if self.settings.provider(key).configured)

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.dispose()


def load_keyring(settings: Settings) -> Keyring:
    """ENCRYPTION_KEYS when given; in local mode only, a key generated into the data directory."""
    if settings.encryption_keys is not None:
        return Keyring.parse(settings.encryption_keys.get_secret_value())
    if settings.environment is not Environment.LOCAL:
        raise RuntimeError("ENCRYPTION_KEYS is required outside local mode")
    logger.warning("ENCRYPTION_KEYS is not set: using a key generated in %s (local mode only)", settings.data_dir)
    return Keyring.local(settings.data_dir)


def build_services(settings: Settings) -> Services:
    keyring = load_keyring(settings)
    db = Database(settings.database_url)
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
    signer = LinkSigner(keyring, public_url=settings.public_url)
    metadata = ProviderMetadata(http, {key: settings.provider(key).metadata_url for key in PROVIDERS})
    connect = ConnectFlow(settings=settings, db=db, keyring=keyring, signer=signer, metadata=metadata)
    return Services(
        settings=settings,
        db=db,
        keyring=keyring,
        http=http,
        signer=signer,
        metadata=metadata,
        connect=connect,
        recent_members=RecentMembers(),
    )
