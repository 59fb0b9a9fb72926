"""POST /v1/events against what an attacker or a careless sender would send (issue 12).

Each answer must be a precise RFC 9457 problem naming what is wrong, and nothing refused may
reach ``cw.events``.
"""

from __future__ import annotations

import orjson
import pytest

from churnwatch.events import EventType
from churnwatch_ingest import IngestSettings, create_app
from tests.integration.ingest.support import event, make_key, read_topic, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def test_only_json_is_parsed(ingest_settings: IngestSettings, ingest_key: str) -> None:
    p = unique("ct")
    body = orjson.dumps(event(1, prefix=p))
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        answers = {
            kind: await client.post("/v1/events", content=body, headers={"content-type": kind})
            for kind in (
                "text/plain;charset=UTF-8",  # what a cross-site form or fetch sends unasked
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/xml",
                "application/json; charset=latin-1",
            )
        }
        bare = await client.post("/v1/events", content=body)  # no Content-Type at all
        ok = await client.post(
            "/v1/events", content=body, headers={"content-type": "application/json; charset=utf-8"}
        )
    for kind, answer in [*answers.items(), ("none", bare)]:
        assert answer.status_code == 415, kind
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["title"] == "Unsupported Media Type"
        assert "application/json" in answer.json()["detail"] or "UTF-8" in answer.json()["detail"]
    assert ok.status_code == 200
    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert [orjson.loads(r.value)["event_id"] for r in records] == [f"{p}-1"]


async def test_a_duplicated_key_rejects_its_event_naming_the_key(
    ingest_settings: IngestSettings, ingest_key: str
) -> None:
    p = unique("dupkey")
    good = orjson.dumps(event(1, prefix=p))
    twice = orjson.dumps(event(2, prefix=p)).replace(
        b'"amount":"59.90"', b'"amount":"1.00","amount":"1000.00"'
    )
    assert twice.count(b'"amount"') == 2
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        mixed = await client.post(
            "/v1/events",
            content=b"[" + good + b"," + twice + b"]",
            headers={"content-type": "application/json"},
        )
        alone = await client.post(
            "/v1/events", content=twice, headers={"content-type": "application/json"}
        )
    assert mixed.status_code == 207
    assert mixed.json()["results"][1]["errors"] == [
        {
            "field": "attributes.amount",
            "code": "duplicate_key",
            "message": "key 'amount' appears more than once in its object; which value was meant"
            " is ambiguous",
        }
    ]
    assert mixed.json()["results"][1]["event_id"] == f"{p}-2"
    assert alone.status_code == 422
    assert alone.headers["content-type"] == PROBLEM
    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert [orjson.loads(r.value)["event_id"] for r in records] == [f"{p}-1"]


async def test_dates_outside_the_window_and_bad_bytes_name_the_field(
    ingest_settings: IngestSettings, ingest_key: str
) -> None:
    p = unique("window")
    epoch = event(1, prefix=p, occurred_at="1970-01-01T00:00:00Z")
    year1 = event(2, prefix=p, occurred_at="0001-01-01T00:00:00Z")
    latin1 = orjson.dumps(event(3, prefix=p)).replace(b"shop-web", b"shop-w\xe9b")
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        old = await client.post("/v1/events", json=[epoch, year1])
        bytes_ = await client.post(
            "/v1/events", content=latin1, headers={"content-type": "application/json"}
        )
    assert old.status_code == 422
    for result in old.json()["results"]:
        assert [(e["field"], e["code"]) for e in result["errors"]] == [("occurred_at", "too_old")]
    assert bytes_.status_code == 422
    (error,) = bytes_.json()["results"][0]["errors"]
    assert (error["field"], error["code"]) == ("source", "invalid_encoding")
    offset = latin1.index(b"\xe9")
    assert f"offset {offset}" in error["message"]
    assert "surrogates" not in error["message"]


async def test_an_erasure_needs_the_erase_scope(ingest_settings: IngestSettings) -> None:
    p = unique("erase")
    writer = await make_key(ingest_settings.database_url, ["events:write"])
    eraser = await make_key(ingest_settings.database_url, ["events:write", "events:erase"])
    erasure = event(1, "C-erase", EventType.CUSTOMER_ERASED, prefix=p)
    async with serve(create_app(ingest_settings)) as client:
        refused = await client.post(
            "/v1/events",
            json=[event(0, prefix=p), erasure],
            headers={"Authorization": f"Bearer {writer}"},
        )
        allowed = await client.post(
            "/v1/events", json=erasure, headers={"Authorization": f"Bearer {eraser}"}
        )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert (body["event_type"], body["index"], body["missing_scopes"]) == (
        "customer_erased",
        1,
        ["events:erase"],
    )
    assert "customer_erased" in body["detail"]
    assert "events:erase" in body["detail"]
    assert allowed.status_code == 200
    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert [orjson.loads(r.value)["event_id"] for r in records] == [f"{p}-1"]  # not even event 0


async def test_every_refusal_is_a_problem_document(ingest_settings: IngestSettings) -> None:
    async with serve(create_app(ingest_settings)) as client:
        no_key = await client.post("/v1/events", json=event(1, prefix=unique("nokey")))
        metrics = await client.get("/metrics")
        missing = await client.get("/v1/nothing")
        wrong_method = await client.delete("/v1/events")
    for answer, status in [(no_key, 401), (metrics, 401), (missing, 404), (wrong_method, 405)]:
        assert answer.status_code == status
        assert answer.headers["content-type"] == PROBLEM
        doc = answer.json()
        assert {"type", "title", "status", "detail", "instance"} <= doc.keys()
        assert doc["status"] == status
