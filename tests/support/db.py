"""Direct, synchronous access to the app's database, to assert what it stored and to age rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import create_engine, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from storage.db import sync_url

Row = TypeVar("Row", bound=SQLModel)


class Rows:
    def __init__(self, database_url: str) -> None:
        self.engine: Engine = create_engine(sync_url(database_url))

    def all(self, model: type[Row], **where: Any) -> list[Row]:
        with Session(self.engine) as session:
            statement = select(model)
            for name, value in where.items():
                statement = statement.where(getattr(model, name) == value)
            return list(session.exec(statement).all())

    def one(self, model: type[Row], **where: Any) -> Row:
        found = self.all(model, **where)
        assert len(found) == 1, f"expected one {model.__name__} where {where}, found {len(found)}"
        return found[0]

    def set(self, model: type[Row], where: dict[str, Any], **values: Any) -> None:
        """Change rows behind the app's back (e.g. to age a link past its expiry)."""
        with Session(self.engine) as session:
            statement = update(model)
            for name, value in where.items():
                statement = statement.where(getattr(model, name) == value)
            session.exec(statement.values(**values))  # type: ignore[call-overload]
            session.commit()
