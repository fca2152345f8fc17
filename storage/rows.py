"""Writing rows whose uniqueness the database enforces."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_unless_duplicate(*, session: AsyncSession, row: SQLModel) -> bool:
    """Insert `row` in a savepoint; False (and nothing written) if a unique constraint says it exists.

    Checking first is not enough: two requests can both find nothing and then both insert.
    """
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
