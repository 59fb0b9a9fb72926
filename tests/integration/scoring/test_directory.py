"""Contact details through ingest → cw.events → scoring, sealed on Kafka, erased by an event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EventType
from churnwatch.privacy import customer_hash, is_sealed, open_fields
from tests.integration.ingest.support import read_topic
from tests.integration.scoring.support import EventFactory, processor, rows, run_until_consumed
from tests.support.infra import Broker, unique
from tests.support.privacy import columns_holding, ingest

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
NAME, EMAIL, PHONE = "Ottilie Quenzer", "ottilie.quenzer@example.org", "+49 89 5550199"
COMMENT = "Call Ottilie on +49 89 5550199 please"


def profile(f: EventFactory, customer: str, day: float, **attrs: object) -> dict[str, object]:
    return f.make(customer, EventType.CUSTOMER_PROFILE, day, **attrs)


async def test_profile_fills_the_directory_and_never_travels_in_clear(
    db: AsyncEngine, fresh_database: str, kafka: Broker, topic_factory: Topic
) -> None:
    events, scores = await topic_factory("pii.events", 3), await topic_factory("pii.scores", 3)
    f = EventFactory(unique("p"))
    sent = [
        profile(f, "C-P", 0.0, name="Old Name", email="old@example.org", phone=None),
        f.make("C-P", EventType.NPS, 0.5, score=2, comment=COMMENT),
        profile(f, "C-P", 1.0, name=NAME, email=EMAIL, phone=PHONE),
        profile(f, "C-Q", 1.0, name=None, email=None, phone=None),  # consent only: no row
    ]
    await ingest(fresh_database, kafka.bootstrap, events, sent)

    records = await read_topic(kafka.bootstrap, events, at_least=len(sent))
    assert len(records) == len(sent)
    for record in records:
        assert record.value is not None
        for secret in (NAME, EMAIL, PHONE, "Old Name", "old@example.org", "Ottilie"):
            assert secret.encode() not in record.value
    newest = orjson.loads(records[[orjson.loads(r.value or b"")["event_id"] for r in records]
                                  .index(sent[2]["event_id"])].value or b"")  # fmt: skip
    assert all(is_sealed(newest["attributes"][k]) for k in ("name", "email", "phone"))
    (key,) = await rows(db, "SELECT dek FROM customer_keys WHERE customer_id = 'C-P'")
    assert open_fields("C-P", "customer_profile", newest["attributes"], bytes(key["dek"])) == {
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
    }

    proc = processor(unique("g"), scores_topic=scores)
    await run_until_consumed(db, proc, bootstrap=kafka.bootstrap, topic=events, total=len(sent))
    directory = await rows(db, "SELECT customer_id, name, email, phone FROM customer_directory")
    assert directory == [{"customer_id": "C-P", "name": NAME, "email": EMAIL, "phone": PHONE}]
    # the one place: nowhere else in the database, in any column of any table
    assert await columns_holding(db, [NAME, EMAIL, PHONE, "Ottilie"]) == [
        "customer_directory.email",
        "customer_directory.name",
        "customer_directory.phone",
    ]
    (latest,) = await rows(db, "SELECT customer_id FROM latest_scores WHERE customer_id = 'C-P'")
    assert latest  # the profile events were scored as before (sealed values stripped)


async def test_customer_erased_event_erases_everywhere_and_for_good(
    db: AsyncEngine, fresh_database: str, kafka: Broker, topic_factory: Topic
) -> None:
    events, scores = await topic_factory("pii.events", 3), await topic_factory("pii.scores", 3)
    f = EventFactory(unique("x"))
    first = [
        profile(f, "C-E", 0.0, name=NAME, email=EMAIL, phone=PHONE),
        profile(f, "C-K", 0.0, name="Kept Person", email="kept@example.org"),
    ]
    await ingest(fresh_database, kafka.bootstrap, events, first)
    proc = processor(unique("g"), scores_topic=scores)
    await run_until_consumed(db, proc, bootstrap=kafka.bootstrap, topic=events, total=2)
    async with db.begin() as conn:  # a save-team note naming the customer
        await conn.exec_driver_sql(
            "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version, action_type,"
            " state, priority, value_at_risk, churn_probability, tier, reasons, talking_points,"
            " team, sla_due_at, created_at, recover_band) VALUES ('T-E', 'C-E', 'pb', 1,"
            " 'save_call', 'won', 1, 1, 0.5, 'gold', '[]', '[]', 'save', now(), now(), 'low')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO task_audit (task_id, to_state, actor, at, note)"
            f" VALUES ('T-E', 'won', 'A-1', now(), 'spoke to {NAME}, {PHONE}')"
        )

    later = [
        f.make("C-E", EventType.CUSTOMER_ERASED, 2.0),
        profile(f, "C-E", 3.0, name="Back Again", email="back@example.org"),  # after erasure
    ]
    await ingest(fresh_database, kafka.bootstrap, events, later)
    await run_until_consumed(db, proc, bootstrap=kafka.bootstrap, topic=events, total=4)

    directory = await rows(db, "SELECT customer_id FROM customer_directory")
    assert directory == [{"customer_id": "C-K"}]
    assert await rows(db, "SELECT 1 FROM customer_keys WHERE customer_id = 'C-E'") == []
    assert await columns_holding(db, [NAME, EMAIL, PHONE, "Back Again", "back@example.org"]) == []
    (note,) = await rows(db, "SELECT note FROM task_audit WHERE task_id = 'T-E'")
    assert note["note"] == "[erased]"
    (log,) = await rows(db, "SELECT customer_hash, actor, via, removed FROM erasures")
    assert log == {
        "customer_hash": customer_hash("C-E"),
        "actor": "crm",
        "via": "event",
        "removed": {"directory": 1, "keys": 1, "task_notes": 1},
    }
    # on the topic: the old profile can no longer be opened, the late one was never sealed
    for record in await read_topic(kafka.bootstrap, events, at_least=4):
        doc = orjson.loads(record.value or b"")
        if doc["customer_id"] == "C-E" and doc["event_type"] == "customer_profile":
            opened = open_fields("C-E", "customer_profile", doc["attributes"], None)
            assert opened == {"name": None, "email": None, "phone": None}
            assert b"Back Again" not in (record.value or b"")
