"""DELETE /v1/customers/{id} and the contact reads: nothing personal left in PostgreSQL or Kafka.

The customer's details come in the real way (ingest → ``cw.events`` → scoring), then the API
erases them; the whole database and the whole topic are searched for the plaintext afterwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.auth import Principal
from churnwatch.events import EventType
from churnwatch.privacy import customer_hash, is_sealed, open_fields
from churnwatch.profile import CustomerProfile
from churnwatch_api import ApiSettings
from churnwatch_api.store.directory import get_contact, search_contacts
from churnwatch_runtime.settings import TopicNames
from churnwatch_runtime.worker import OutboxRelay
from tests.integration.api.conftest import MakeKey
from tests.integration.ingest.support import read_topic
from tests.integration.scoring.support import EventFactory, processor, rows, run_until_consumed
from tests.support.infra import Broker, unique
from tests.support.privacy import columns_holding, ingest

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
NAME, EMAIL, PHONE = "Wendelin Abernathy", "w.abernathy@example.net", "+44 20 79460321"
READER = Principal.of(key_id="k-1", name="team-laptop", agent_id=None, scopes=["pii:read"])


@pytest.fixture
async def events_topic(topic_factory: Topic) -> str:
    return await topic_factory("er.events", 3)


@pytest.fixture
def api_settings(fresh_database: str, events_topic: str) -> ApiSettings:
    return ApiSettings(
        database_url=fresh_database,
        auth_cache_ttl_s=0,
        log_json=False,
        topics=TopicNames(events=events_topic),
    )


async def fill(
    db: AsyncEngine, url: str, kafka: Broker, topic: str, scores: str, group: str
) -> int:
    """Two customers' profiles through ingest and scoring, and a task note naming one."""
    f = EventFactory(unique("a"))
    sent = [
        f.make("C-A", EventType.CUSTOMER_PROFILE, 0.0, name=NAME, email=EMAIL, phone=PHONE),
        f.make("C-B", EventType.CUSTOMER_PROFILE, 0.0, name="Bea Wendel", email="bea@example.net"),
        f.make("C-A", EventType.NPS, 0.2, score=1, comment=f"I am {NAME}, fix it"),
    ]
    await ingest(url, kafka.bootstrap, topic, sent)
    await run_until_consumed(
        db, processor(group, scores_topic=scores), bootstrap=kafka.bootstrap, topic=topic,
        total=len(sent),
    )  # fmt: skip
    async with db.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version, action_type,"
            " state, priority, value_at_risk, churn_probability, tier, reasons, talking_points,"
            " team, sla_due_at, created_at, recover_band) VALUES ('T-A', 'C-A', 'pb', 1,"
            " 'save_call', 'won', 1, 1, 0.5, 'gold', '[]', '[]', 'save', now(), now(), 'low')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO task_audit (task_id, to_state, actor, at, note)"
            f" VALUES ('T-A', 'won', 'A-1', now(), 'reached {NAME} on {PHONE}')"
        )
    return len(sent)


async def test_contact_reads_are_audited_without_personal_data(
    api_engine: AsyncEngine,
    fresh_database: str,
    kafka: Broker,
    events_topic: str,
    topic_factory: Topic,
) -> None:
    scores = await topic_factory("er.scores", 3)
    await fill(api_engine, fresh_database, kafka, events_topic, scores, unique("g"))
    async with api_engine.begin() as conn:
        contact = await get_contact(conn, "C-A", who=READER)
        found = await search_contacts(conn, "WENDEL", 10, who=READER)  # name or e-mail, any case
        missing = await get_contact(conn, "C-none", who=READER)
        with pytest.raises(ValueError, match="at least 3"):
            await search_contacts(conn, "we", who=READER)
    assert contact is not None
    assert (contact.name, contact.email) == (NAME, EMAIL)
    assert [c.customer_id for c in found] == ["C-A", "C-B"]
    assert missing is None
    audit = await rows(api_engine, "SELECT actor, action, target FROM api_audit ORDER BY id")
    assert audit == [
        {"actor": "team-laptop", "action": "pii.read", "target": "C-A"},
        {"actor": "team-laptop", "action": "pii.search", "target": "C-A"},
        {"actor": "team-laptop", "action": "pii.search", "target": "C-B"},
    ]
    holding = await columns_holding(api_engine, [NAME, EMAIL, PHONE, "WENDEL"])
    assert "api_audit.target" not in holding
    assert all(c.startswith(("customer_directory.", "task_audit.")) for c in holding)


async def test_erasure_leaves_nothing_readable_in_the_database_or_on_kafka(
    api_engine: AsyncEngine,
    api_client: httpx.AsyncClient,
    make_key: MakeKey,
    fresh_database: str,
    kafka: Broker,
    events_topic: str,
    topic_factory: Topic,
) -> None:
    group = unique("g")
    scores = await topic_factory("er.scores", 3)
    total = await fill(api_engine, fresh_database, kafka, events_topic, scores, group)
    before = await columns_holding(api_engine, [NAME, EMAIL, PHONE])
    assert "customer_directory.email" in before
    assert "task_audit.note" in before

    reader = {"Authorization": f"Bearer {await make_key(['read', 'pii:read'])}"}
    admin = {"Authorization": f"Bearer {await make_key(['admin'], name='dpo')}"}
    denied = await api_client.delete("/v1/customers/C-A", headers=reader)
    assert denied.status_code == 403
    assert "admin" in denied.json()["detail"]
    first = await api_client.delete("/v1/customers/C-A", headers=admin)
    again = await api_client.delete("/v1/customers/C-A", headers=admin)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()  # idempotent: the same answer
    assert first.json()["customer_id"] == "C-A"
    assert first.json()["status"] == "erased"

    # PostgreSQL: every text, json, array and bytea column of every table
    assert await columns_holding(api_engine, [NAME, EMAIL, PHONE, "Wendelin"]) == []
    assert await rows(api_engine, "SELECT customer_id FROM customer_directory") == [
        {"customer_id": "C-B"}
    ]
    assert await rows(api_engine, "SELECT customer_id FROM customer_keys") == [
        {"customer_id": "C-B"}
    ]
    (note,) = await rows(api_engine, "SELECT note FROM task_audit WHERE task_id = 'T-A'")
    assert note == {"note": "[erased]"}
    log = await rows(
        api_engine, "SELECT customer_hash, actor, via, removed FROM erasures ORDER BY id"
    )
    assert log == [
        {"customer_hash": customer_hash("C-A"), "actor": "dpo", "via": "api",
         "removed": {"directory": 1, "keys": 1, "task_notes": 1}},
        {"customer_hash": customer_hash("C-A"), "actor": "dpo", "via": "api",
         "removed": {"directory": 0, "keys": 0, "task_notes": 0}},
    ]  # fmt: skip

    # the first erasure queued one customer_erased event; relayed, scoring tombstones the profile
    queued = await rows(api_engine, "SELECT value FROM outbox WHERE topic = :t", t=events_topic)
    assert [orjson.loads(q["value"])["event_type"] for q in queued] == ["customer_erased"]
    relay = OutboxRelay(api_engine, kafka.bootstrap, listen=False)
    try:
        while await relay.relay_once():
            pass
    finally:
        await relay.stop()
    await run_until_consumed(
        api_engine, processor(group, scores_topic=scores), bootstrap=kafka.bootstrap,
        topic=events_topic, total=total + 1,
    )  # fmt: skip
    (profile,) = await rows(
        api_engine, "SELECT state FROM customer_profiles WHERE customer_id = 'C-A'"
    )

    assert CustomerProfile.from_bytes(profile["state"]).erased
    assert await columns_holding(api_engine, [NAME, EMAIL, PHONE]) == []

    # Kafka: the plaintext was never there, and the sealed copies cannot be opened any more
    records = await read_topic(kafka.bootstrap, events_topic, at_least=total + 1)
    keys = await rows(api_engine, "SELECT customer_id, dek FROM customer_keys")
    sealed_seen = 0
    for record in records:
        value = record.value or b""
        for secret in (NAME, EMAIL, PHONE, "Wendelin"):
            assert secret.encode() not in value
        doc = orjson.loads(value)
        if doc["customer_id"] != "C-A":
            continue
        for field in ("name", "email", "phone", "comment"):
            if is_sealed(doc["attributes"].get(field)):
                sealed_seen += 1
                for k in keys:  # no key left in the database opens it
                    opened = open_fields("C-A", doc["event_type"], doc["attributes"], k["dek"])
                    assert opened[field] is None
    assert sealed_seen == 4  # name, email, phone and the NPS comment were on the topic, sealed


async def test_erase_unknown_customer_and_bad_id(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    admin = {"Authorization": f"Bearer {await make_key(['admin'])}"}
    unknown = await api_client.delete("/v1/customers/C-never-seen", headers=admin)
    assert unknown.status_code == 200
    assert unknown.json()["status"] == "erased"
    bad = await api_client.delete("/v1/customers/C%201", headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].endswith("customer_id")
