"""Alembic migrations of the signature service's schema (see ``engine.service.store.migrate``)."""
