"""Who may do what: API key format and digest, scopes (pure; the SQL is in the services)."""

from churnwatch.auth.keys import (
    ADMIN,
    SCOPES,
    KeyParts,
    MalformedKey,
    UnknownScope,
    digests_match,
    format_key,
    generate_key,
    key_digest,
    missing_scopes,
    parse_key,
    parse_scopes,
)
from churnwatch.auth.principal import Principal
from churnwatch.auth.ratelimit import TokenBucket

__all__ = [
    "ADMIN",
    "SCOPES",
    "KeyParts",
    "MalformedKey",
    "Principal",
    "TokenBucket",
    "UnknownScope",
    "digests_match",
    "format_key",
    "generate_key",
    "key_digest",
    "missing_scopes",
    "parse_key",
    "parse_scopes",
]
