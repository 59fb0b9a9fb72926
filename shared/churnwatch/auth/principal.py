"""The caller of an authenticated request, as the routes and the audit log see it."""

from __future__ import annotations

from dataclasses import dataclass

from churnwatch.auth.keys import missing_scopes


@dataclass(frozen=True)
class Principal:
    """A verified key (directly, or through the session it opened).

    ``actor`` is the name the audit log records: the agent id when the key belongs to a
    save-team agent (so task steps name the agent), else the key's name.

    >>> p = Principal.of(key_id="0a1b2c3d4e", name="alice", agent_id=None, scopes=["read"])
    >>> p.actor, p.allows("read"), p.allows("admin")
    ('alice', True, False)
    >>> Principal.of(key_id="k", name="laptop", agent_id="A-1", scopes=["admin"]).actor
    'A-1'
    """

    key_id: str
    name: str
    actor: str
    agent_id: str | None
    scopes: frozenset[str]

    @classmethod
    def of(
        cls, *, key_id: str, name: str, agent_id: str | None, scopes: list[str] | frozenset[str]
    ) -> Principal:
        return cls(key_id, name, agent_id or name, agent_id, frozenset(scopes))

    def missing(self, *needed: str) -> list[str]:
        """The scopes of ``needed`` this principal lacks (none with ``admin``)."""
        return missing_scopes(self.scopes, needed)

    def allows(self, *needed: str) -> bool:
        return not self.missing(*needed)
