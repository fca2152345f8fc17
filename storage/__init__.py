"""Persistence: SQLModel tables, the engine and sessions, queries, Alembic migrations. Imports nothing of the app."""
