"""Outbound address queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboundAddress


async def list_addresses(*, session: AsyncSession, workspace_id: str) -> Sequence[OutboundAddress]:
    statement = (
        select(OutboundAddress).where(OutboundAddress.workspace_id == workspace_id).order_by(col(OutboundAddress.email))
    )
    return (await session.exec(statement)).all()


async def list_addresses_assigned_to(
    *, session: AsyncSession, workspace_id: str, user_id: str
) -> Sequence[OutboundAddress]:
    statement = (
        select(OutboundAddress)
        .where(OutboundAddress.workspace_id == workspace_id, OutboundAddress.assigned_user_id == user_id)
        .order_by(col(OutboundAddress.email))
    )
    return (await session.exec(statement)).all()


async def get_address(*, session: AsyncSession, workspace_id: str, address_id: str) -> OutboundAddress | None:
    statement = select(OutboundAddress).where(
        OutboundAddress.workspace_id == workspace_id, OutboundAddress.id == address_id
    )
    return (await session.exec(statement)).first()


async def get_address_by_email(*, session: AsyncSession, workspace_id: str, email: str) -> OutboundAddress | None:
    """`email` must already be in canonical (lower-case) form."""
    statement = select(OutboundAddress).where(
        OutboundAddress.workspace_id == workspace_id, OutboundAddress.email == email
    )
    return (await session.exec(statement)).first()
