"""Deterministic randomisation and identifiers: the holdout draw and action ids.

Both are keyed hashes (BLAKE2b), so they are the same in every process, after every restart and
on every replay, and need no stored state: a customer's arm for a playbook is decided by
``(salt, playbook id, customer id)`` alone, and an action's id by what caused it.
"""

from __future__ import annotations

from hashlib import blake2b

__all__ = ["action_id", "holdout_draw", "in_holdout"]


def _digest(parts: tuple[str, ...], size: int, person: bytes) -> bytes:
    """BLAKE2b of the parts, each prefixed by its length: ("a", "bc") and ("ab", "c") differ."""
    h = blake2b(digest_size=size, person=person)
    for part in parts:
        data = part.encode()
        h.update(len(data).to_bytes(4, "big") + data)
    return h.digest()


def holdout_draw(customer_id: str, playbook_id: str, salt: str = "") -> float:
    """A uniform number in [0, 1) fixed by customer, playbook and salt (64 bits of BLAKE2b).

    The playbook *version* is not part of it: editing a playbook keeps its control group.

    >>> holdout_draw("C-1", "save_call_vip") == holdout_draw("C-1", "save_call_vip")
    True
    >>> 0 <= holdout_draw("C-1", "save_call_vip") < 1
    True
    """
    digest = _digest((salt, playbook_id, customer_id), 8, b"cw-holdout")
    return int.from_bytes(digest, "big") / 2.0**64


def in_holdout(customer_id: str, playbook_id: str, share: float, salt: str = "") -> bool:
    """Whether the customer is in the playbook's control group (probability ``share``).

    >>> in_holdout("C-1", "save_call_vip", 0.0), in_holdout("C-1", "save_call_vip", 1.0)
    (False, True)
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"holdout share must be in [0, 1], got {share}")
    return holdout_draw(customer_id, playbook_id, salt) < share


def action_id(playbook_id: str, playbook_version: int, customer_id: str, trigger_key: str) -> str:
    """The id of the action a playbook takes for a customer on one trigger episode.

    The same inputs give the same id, so a retried batch or a restarted worker re-creates the
    same action, which the outbox and every consumer recognise as a duplicate.

    >>> a = action_id("save_call_vip", 1, "C-1", "band_entered:high@2026-03-01T00:00:00+00:00")
    >>> a == action_id("save_call_vip", 1, "C-1", "band_entered:high@2026-03-01T00:00:00+00:00")
    True
    >>> a.startswith("act-"), len(a)
    (True, 36)
    >>> a == action_id("save_call_vip", 2, "C-1", "band_entered:high@2026-03-01T00:00:00+00:00")
    False
    """
    digest = _digest((playbook_id, str(playbook_version), customer_id, trigger_key), 16, b"cw-act")
    return "act-" + digest.hex()
