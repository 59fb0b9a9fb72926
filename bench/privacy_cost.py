"""CPU cost per event of sealing personal attributes in ingest (``python -m bench.privacy_cost``).

Ingest writes every accepted event with ``event_to_json``; with personal-data protection each
event also passes ``seal_event`` (a byte search for most types; parse, AES-256-GCM per personal
field and re-encode for ``customer_profile``, ``nps`` and ``subscription_cancelled``). This
measures both per event type, single core, best of 5 (timeit); the data-key lookup (one SQL
statement per request that carries personal data) is not included. Prints one JSON line.
"""

from __future__ import annotations

import copy
import timeit
from datetime import UTC, datetime

import orjson

from churnwatch.events import EXAMPLES, EventType, event_to_json, parse_event
from churnwatch.privacy import new_key, seal_event, strip_sealed

N = 20_000
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _event(kind: EventType) -> object:
    doc = copy.deepcopy(dict(EXAMPLES[kind]))
    if kind is EventType.CUSTOMER_PROFILE:
        doc["attributes"]["name"] = "Jana Novak"
    return parse_event(orjson.dumps(doc), now=NOW)


def _us(stmt: object) -> float:
    best = min(timeit.repeat(stmt, number=N, repeat=5))  # type: ignore[arg-type]
    return round(best / N * 1e6, 2)


def main() -> None:
    key = new_key()
    out: dict[str, dict[str, float]] = {}
    for kind in (EventType.PURCHASE, EventType.CUSTOMER_PROFILE, EventType.NPS):
        event = _event(kind)
        doc = event_to_json(event)  # type: ignore[arg-type]
        sealed = seal_event(doc, key)
        out[kind.value] = {
            "event_to_json_us": _us(lambda e=event: event_to_json(e)),
            "seal_us": _us(lambda d=doc: seal_event(d, key)),
            "strip_in_scoring_us": _us(lambda s=sealed: strip_sealed(s)),
            "bytes_plain": len(doc),
            "bytes_sealed": len(sealed),
        }
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
