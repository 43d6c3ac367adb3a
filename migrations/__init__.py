"""Alembic migrations; `houqin db upgrade` applies them."""
