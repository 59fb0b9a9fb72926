"""Sinks: the JSON-lines file, the ingest HTTP API (faked with httpx.MockTransport), Kafka's
encoding (with a stand-in producer object; the real broker is in test_sim_kafka.py)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from churnwatch_sim import HttpSink, JsonlSink, KafkaSink, SinkError, open_sink

EVENTS = [
    orjson.dumps({"event_id": f"e-{i}", "customer_id": f"C-{i % 7:06d}", "x": i}).decode()
    for i in range(1234)
]


def _ids(request: httpx.Request) -> list[str]:
    return [e["event_id"] for e in orjson.loads(request.content)]


def _report(ids: list[str], statuses: list[str]) -> dict[str, Any]:
    return {
        "accepted": statuses.count("accepted"),
        "duplicates": statuses.count("duplicate"),
        "rejected": statuses.count("rejected"),
        "results": [
            {"index": i, "event_id": e, "status": s,
             "errors": [{"field": "x", "code": "invalid_value"}] if s == "rejected" else []}
            for i, (e, s) in enumerate(zip(ids, statuses, strict=True))
        ],
    }  # fmt: skip


class Recorder:
    """An ingest stand-in: answers from a script of (status, headers, rule) per request."""

    def __init__(self, *script: tuple[int, dict[str, str], str]) -> None:
        self.script = list(script)
        self.requests: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events"
        assert request.headers["content-type"] == "application/json"
        ids = _ids(request)
        self.requests.append(ids)
        status, headers, rule = self.script.pop(0) if self.script else (200, {}, "ok")
        if rule == "ok":
            statuses = ["accepted"] * len(ids)
        elif rule == "odd-rejected":
            statuses = ["rejected" if int(e[2:]) % 2 else "accepted" for e in ids]
        elif rule == "all-rejected":
            statuses = ["rejected"] * len(ids)
        elif rule == "half-published":
            statuses = ["accepted" if k < len(ids) // 2 else "unavailable" for k in range(len(ids))]
        else:
            return httpx.Response(status, headers=headers, text=rule)
        return httpx.Response(status, headers=headers, json=_report(ids, statuses))


def _sink(handler: Recorder, sleeps: list[float], **options: Any) -> HttpSink:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpSink("http://ingest:8001/", client=client, sleep=sleep, **options)


async def test_http_posts_batches_of_at_most_500_in_order() -> None:
    handler, sleeps = Recorder(), list[float]()
    sink = _sink(handler, sleeps)
    await sink.send(EVENTS)
    await sink.close()
    assert [len(r) for r in handler.requests] == [500, 500, 234]
    assert [i for r in handler.requests for i in r] == [f"e-{i}" for i in range(1234)]
    assert (sink.stats.sent, sink.stats.accepted, sink.stats.rejected) == (1234, 1234, 0)
    assert sleeps == []


async def test_http_counts_rejections_from_207_and_422() -> None:
    handler = Recorder((207, {}, "odd-rejected"), (422, {}, "all-rejected"))
    sink = _sink(handler, [], batch_size=10)
    await sink.send(EVENTS[:20])
    assert (sink.stats.accepted, sink.stats.rejected, sink.stats.sent) == (5, 15, 20)
    assert len(sink.stats.rejections) == 15
    assert sink.stats.rejections[0]["errors"][0]["code"] == "invalid_value"


async def test_http_422_without_a_report_counts_the_whole_batch() -> None:
    handler = Recorder((422, {}, '{"detail": "the batch is empty"}'))
    sink = _sink(handler, [])
    await sink.send(EVENTS[:3])
    assert (sink.stats.rejected, sink.stats.accepted) == (3, 0)


async def test_http_retries_after_503_honouring_retry_after() -> None:
    handler = Recorder((503, {"Retry-After": "7"}, "busy"), (503, {}, "busy"), (200, {}, "ok"))
    sleeps: list[float] = []
    sink = _sink(handler, sleeps, backoff=0.5)
    await sink.send(EVENTS[:50])
    assert sleeps == [7.0, 0.5 * 2]  # the server's wait, then the backoff of a 2nd attempt
    assert handler.requests[0] == handler.requests[1] == handler.requests[2]
    assert (sink.stats.retries, sink.stats.accepted) == (2, 50)


async def test_http_resends_only_what_a_503_did_not_publish() -> None:
    handler = Recorder((503, {"Retry-After": "1"}, "half-published"), (200, {}, "ok"))
    sink = _sink(handler, [])
    await sink.send(EVENTS[:10])
    assert handler.requests[1] == handler.requests[0][5:]
    assert (sink.stats.accepted, sink.stats.sent, sink.stats.duplicates) == (10, 10, 0)


async def test_http_retries_connection_errors_then_gives_up_loudly() -> None:
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    sink = HttpSink("http://ingest", client=client, sleep=sleep, max_retries=3, backoff=1.0)
    with pytest.raises(SinkError, match="gave up after 3 retries"):
        await sink.send(EVENTS[:5])
    assert calls == 4
    assert sleeps == [1.0, 2.0, 4.0]
    assert sink.stats.sent == 0


async def test_http_splits_a_batch_the_server_finds_too_large() -> None:
    handler = Recorder((413, {}, "too large"))
    sink = _sink(handler, [])
    await sink.send(EVENTS[:8])
    assert [len(r) for r in handler.requests] == [8, 4, 4]
    assert sink.stats.accepted == 8


async def test_http_other_errors_stop_the_run() -> None:
    sink = _sink(Recorder((401, {}, "who are you")), [])
    with pytest.raises(SinkError, match="HTTP 401"):
        await sink.send(EVENTS[:1])


async def test_jsonl_writes_text_and_dicts_as_lines(tmp_path: Path) -> None:
    plain, packed = JsonlSink(tmp_path / "a.jsonl"), JsonlSink(tmp_path / "b.jsonl.gz")
    for sink in (plain, packed):
        await sink.send(EVENTS[:3])
        await sink.send([{"event_id": "d-1", "customer_id": "C-1"}])
        await sink.close()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert lines == [*EVENTS[:3], '{"event_id":"d-1","customer_id":"C-1"}']
    assert gzip.decompress((tmp_path / "b.jsonl.gz").read_bytes()).decode().splitlines() == lines
    assert plain.stats.sent == 4


class StubProducer:
    """Records what would be produced; acknowledges at once (no broker involved)."""

    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.started = self.stopped = False
        self.fail = fail

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: bytes, key: bytes) -> Any:
        import asyncio

        self.records.append((topic, key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            future.set_exception(RuntimeError("not enough replicas"))
        else:
            future.set_result(None)
        return future


async def test_kafka_keys_by_customer_and_sends_the_json_bytes() -> None:
    producer = StubProducer()
    sink = KafkaSink("unused:9092", producer=producer)
    await sink.send(EVENTS[:10])
    await sink.close()
    assert producer.started
    assert producer.stopped
    assert [r[0] for r in producer.records] == ["cw.events.raw"] * 10
    assert [r[1] for r in producer.records] == [f"C-{i % 7:06d}".encode() for i in range(10)]
    assert [r[2] for r in producer.records] == [e.encode() for e in EVENTS[:10]]
    assert sink.stats.accepted == 10


async def test_kafka_failures_become_sink_errors() -> None:
    sink = KafkaSink("unused:9092", producer=StubProducer(fail=True))
    with pytest.raises(SinkError, match="not enough replicas"):
        await sink.send(EVENTS[:2])
    assert sink.stats.sent == 0


def test_targets_pick_their_sink() -> None:
    assert isinstance(open_sink("events.jsonl"), JsonlSink)
    assert isinstance(open_sink("http://127.0.0.1:8001"), HttpSink)
    kafka = open_sink("kafka://127.0.0.1:9092")
    assert isinstance(kafka, KafkaSink)
    assert (kafka.bootstrap, kafka.topic) == ("127.0.0.1:9092", "cw.events.raw")
