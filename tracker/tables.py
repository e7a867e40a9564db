"""The tracker's tables: its schemas in the order they apply (tagging and discovery refer to
the papers table). Whoever opens a database for the tracker passes these to core.db.open_db."""

from __future__ import annotations

from core.db import Schema
from tracker import attention, schema, schema_discovery
from tracker.tagging import schema as tagging_schema

SCHEMAS: tuple[Schema, ...] = (
    schema.SCHEMA,
    tagging_schema.SCHEMA,
    schema_discovery.SCHEMA,
    attention.SCHEMA,
)
