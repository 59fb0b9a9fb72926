"""churnwatch's pure domain core: no Kafka, no database, no HTTP.

- `churnwatch.events`: the event contract v1 (models, `parse_event`, JSON Schema, examples).
- `churnwatch.errors`: the exception hierarchy every service maps to HTTP statuses or DLQ reasons.
"""
