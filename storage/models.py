"""The tables. Every row but Workspace carries `workspace_id`, and every query filters on it.

Secret material lives only in `Credential.ciphertext` and `OAuthAttempt.code_verifier_ciphertext`,
both encrypted by the domain before they get here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid4().hex


def _created() -> Any:
    """A timestamp filled in when the row is made."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when(*, required: bool = False) -> Any:
    """A timestamp the domain sets (`required`) or that stays empty until something happens."""
    if required:
        return Field(sa_type=UTCDateTime, nullable=False)
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class AddressStatus(StrEnum):
    PENDING = "pending"
    CONNECTED = "connected"
    ACTIVE = "active"
    INVALID = "invalid"


class Workspace(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32, description="Slack team id")
    name: str = Field(default="", max_length=255)
    created_at: datetime = _created()


class Location(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name_key", name="uq_location_name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, description="casefolded name, for uniqueness")
    alert_channel_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _created()


class OutboundAddress(SQLModel, table=True):
    __tablename__ = "outbound_address"
    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_address_email"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    email: str = Field(max_length=254, description="canonical (lower-case) form")
    display_name: str = Field(max_length=80)
    assigned_user_id: str = Field(max_length=32, index=True)
    added_by_user_id: str = Field(max_length=32)
    location_id: str | None = Field(default=None, foreign_key="location.id", max_length=32)
    provider: str = Field(max_length=32)
    team_name: str | None = Field(default=None, max_length=80)
    team_channel_id: str | None = Field(default=None, max_length=32)
    team_member_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: AddressStatus = Field(default=AddressStatus.PENDING, sa_type=String(16), nullable=False)
    status_reason: str | None = Field(default=None, max_length=255)
    dm_channel_id: str | None = Field(default=None, max_length=32)
    dm_message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _created()
    connected_at: datetime | None = _when()
    first_sent_at: datetime | None = _when()
    last_checked_at: datetime | None = _when()
    invalid_since: datetime | None = _when()
    version: int = Field(default=1)


class Credential(SQLModel, table=True):
    """One per address. `connector` says whether tokens are held here or only a hosted grant id."""

    address_id: str = Field(foreign_key="outbound_address.id", primary_key=True, max_length=32)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    connector: str = Field(max_length=32)
    ciphertext: str | None = Field(default=None, description="MultiFernet token, bound to address_id")
    key_id: str | None = Field(default=None, max_length=16)
    subject: str = Field(max_length=255, description="the provider's stable account id (`sub`)")
    scopes: str = Field(default="", max_length=2000)
    access_expires_at: datetime | None = _when()
    updated_at: datetime = _created()


class ConnectLink(SQLModel, table=True):
    """A link DMed to one Slack user; single use, expires."""

    __tablename__ = "connect_link"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    address_id: str = Field(foreign_key="outbound_address.id", index=True, max_length=32)
    slack_user_id: str = Field(max_length=32)
    expires_at: datetime = _when(required=True)
    used_at: datetime | None = _when()
    created_at: datetime = _created()


class OAuthAttempt(SQLModel, table=True):
    """One authorization request, bound to the browser that started it (RFC 9700 §2.1, §4.7.1)."""

    __tablename__ = "oauth_attempt"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    state_hash: str = Field(max_length=64, unique=True)
    browser_hash: str = Field(max_length=64)
    address_id: str = Field(foreign_key="outbound_address.id", index=True, max_length=32)
    link_id: str = Field(foreign_key="connect_link.id", max_length=32)
    slack_user_id: str = Field(max_length=32)
    provider: str = Field(max_length=32)
    issuer: str = Field(max_length=255, description="the issuer the request was sent to (mix-up defence)")
    nonce: str = Field(max_length=64)
    code_verifier_ciphertext: str
    expires_at: datetime = _when(required=True)
    used_at: datetime | None = _when()
    created_at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    """Append-only: who did what to which address, when. Never holds a secret."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_workspace_at", "workspace_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    workspace_id: str = Field(max_length=32)
    actor: str = Field(max_length=64, description="Slack user id, or system:<component>")
    action: str = Field(max_length=64)
    address_id: str | None = Field(default=None, max_length=32, index=True)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ProcessedDelivery(SQLModel, table=True):
    """Slack deliveries already handled (event_id etc.), so a retry never acts twice."""

    __tablename__ = "processed_delivery"

    key: str = Field(primary_key=True, max_length=128)
    received_at: datetime = _created()
