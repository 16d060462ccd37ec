"""Persistence: SQLAlchemy implementations of core's repository ports."""
