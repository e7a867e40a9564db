"""The application's database: opened with every component's schema (see dashboard.database,
the readers' list, which is every table there is)."""

from __future__ import annotations

from dashboard.database import SCHEMAS, open_db

__all__ = ["SCHEMAS", "open_db"]
