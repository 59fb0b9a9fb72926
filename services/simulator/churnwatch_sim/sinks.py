"""Where generated events go: a JSON-lines file, the ingest HTTP API, or Kafka ``cw.events.raw``.

Every sink has ``async send(batch)`` and ``async close()``; a batch is a sequence of events, each
either one JSON object as text (what the simulator renders) or a ``dict`` (what the loaders
build). Sinks count what the receiver made of the events (:class:`SinkStats`); nothing is dropped
silently: rejected events are counted with their errors, and a receiver that stays unavailable
ends the run with a :class:`SinkError`.

Exceptions::

    SinkError          the receiver refused a batch for good, or never came back
"""

from __future__ import annotations

import asyncio
import gzip
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

import httpx
import orjson

__all__ = [
    "EventLike",
    "HttpSink",
    "JsonlSink",
    "KafkaSink",
    "Sink",
    "SinkError",
    "SinkStats",
    "customer_key",
    "encode_event",
    "open_sink",
    "parse_retry_after",
]

EventLike = str | bytes | Mapping[str, Any]
_KEEP_REJECTIONS = 50


class SinkError(RuntimeError):
    """The receiver refused a batch for good, or did not come back within the retries."""


@dataclass(slots=True)
class SinkStats:
    """What happened to the events sent (rejections keep the first few error reports)."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0
    requests: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, report: dict[str, Any]) -> None:
        if len(self.rejections) < _KEEP_REJECTIONS:
            self.rejections.append(report)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent, "accepted": self.accepted, "duplicates": self.duplicates,
            "rejected": self.rejected, "retries": self.retries, "requests": self.requests,
        }  # fmt: skip


class Sink(Protocol):
    stats: SinkStats

    async def send(self, batch: Sequence[EventLike]) -> None: ...
    async def close(self) -> None: ...


def encode_event(event: EventLike) -> str:
    """One event as compact JSON text (text is passed through as it is).

    >>> encode_event({"event_id": "e-1", "schema_version": 1})
    '{"event_id":"e-1","schema_version":1}'
    """
    if isinstance(event, str):
        return event
    if isinstance(event, bytes):
        return event.decode()
    return orjson.dumps(event).decode()


def customer_key(line: str) -> str:
    """The ``customer_id`` of one event's JSON text (the Kafka key).

    >>> customer_key('{"event_id":"e","customer_id":"C-000042","x":{}}')
    'C-000042'
    >>> customer_key('{"customer_id": "C-7", "event_id": "e"}')
    'C-7'
    """
    start = line.find('"customer_id":"')
    if start >= 0:
        start += 15
        end = line.find('"', start)
        if end > start and "\\" not in line[start:end]:
            return line[start:end]
    return str(orjson.loads(line)["customer_id"])


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    >>> parse_retry_after("2"), parse_retry_after(None), parse_retry_after("soon")
    (2.0, None, None)
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC))
    5.0
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class JsonlSink:
    """Appends events to a JSON-lines file (``-`` for stdout; gzip if the name ends in .gz)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.stats = SinkStats()
        self._fh: IO[bytes] | None = None

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            if self.path == "-":
                self._fh = sys.stdout.buffer
            elif self.path.endswith(".gz"):
                self._fh = cast(IO[bytes], gzip.open(self.path, "wb", compresslevel=4))  # noqa: SIM115
            else:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115
        assert self._fh is not None
        return self._fh

    async def send(self, batch: Sequence[EventLike]) -> None:
        if not batch:
            return
        lines = [encode_event(e) for e in batch] if not isinstance(batch[0], str) else batch
        self._open().write(("\n".join(lines) + "\n").encode())  # type: ignore[arg-type]
        self.stats.sent += len(batch)
        self.stats.accepted += len(batch)

    async def close(self) -> None:
        if self._fh is not None:
            if self.path == "-":
                self._fh.flush()
            else:
                self._fh.close()
            self._fh = None


Sleep = Callable[[float], Awaitable[None]]


class HttpSink:
    """``POST {base}/v1/events`` in batches of at most ``batch_size``; retries on 503 & co.

    A 503 (or 429, 502, 504, 500, or a connection error) means "send the whole batch again":
    after ``Retry-After`` when the server says so, else after an exponential backoff, at most
    ``max_retries`` times. 200 and 207 are counted from the response body, 422 counts the whole
    batch as rejected, 413 splits the batch; any other status raises :class:`SinkError`.
    ``api_key`` (a key with the ``events:write`` scope) is sent as ``Authorization: Bearer``.
    """

    RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

    def __init__(
        self,
        base_url: str,
        *,
        batch_size: int = 500,
        max_retries: int = 10,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        timeout: float = 30.0,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        api_key: str | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/v1/events"
        self.headers = {"content-type": "application/json"}
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.stats = SinkStats()
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self._sleep = sleep

    async def send(self, batch: Sequence[EventLike]) -> None:
        lines = [encode_event(e) for e in batch]
        for lo in range(0, len(lines), self.batch_size):
            await self._post(lines[lo : lo + self.batch_size])

    async def _post(self, lines: list[str]) -> None:
        attempt = 0
        while True:
            self.stats.requests += 1
            body = ("[" + ",".join(lines) + "]").encode()
            try:
                response = await self._client.post(self.url, content=body, headers=self.headers)
            except httpx.TransportError as exc:
                wait, reason = None, f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status not in self.RETRY_STATUS:
                    break
                wait = parse_retry_after(response.headers.get("retry-after"))
                reason = f"HTTP {status}"
                lines = self._settled(response, lines)
                if not lines:
                    return
            attempt += 1
            if attempt > self.max_retries:
                raise SinkError(f"{self.url}: gave up after {self.max_retries} retries ({reason})")
            self.stats.retries += 1
            delay = wait if wait is not None else self.backoff * 2 ** (attempt - 1)
            await self._sleep(min(delay, self.max_wait))
        if status == 413 and len(lines) > 1:
            half = len(lines) // 2
            await self._post(lines[:half])
            await self._post(lines[half:])
            return
        self._count(response, lines)

    def _settled(self, response: httpx.Response, lines: list[str]) -> list[str]:
        """Count the events a 503 answer reports as published; return those to send again."""
        try:
            results = response.json().get("results")
        except (ValueError, AttributeError):
            return lines
        if not isinstance(results, list) or len(results) != len(lines):
            return lines
        again = []
        for line, result in zip(lines, results, strict=True):
            status = result.get("status") if isinstance(result, dict) else None
            if status in ("accepted", "duplicate"):
                self.stats.sent += 1
                self.stats.accepted += status == "accepted"
                self.stats.duplicates += status == "duplicate"
            else:
                again.append(line)
        return again

    def _count(self, response: httpx.Response, lines: list[str]) -> None:
        status, n = response.status_code, len(lines)
        if status not in (200, 207, 422):
            raise SinkError(f"{self.url}: HTTP {status}: {response.text[:500]}")
        self.stats.sent += n
        try:
            report = response.json()
        except ValueError:
            report = None
        if not isinstance(report, dict) or "accepted" not in report:
            if status == 207:
                raise SinkError(f"{self.url}: HTTP 207 without a per-event report")
            report = {"accepted": n if status == 200 else 0, "duplicates": 0,
                      "rejected": n if status == 422 else 0}  # fmt: skip
        self.stats.accepted += int(report.get("accepted", 0))
        self.stats.duplicates += int(report.get("duplicates", 0))
        rejected = int(report.get("rejected", n if status == 422 else 0))
        self.stats.rejected += rejected
        for result in report.get("results") or []:
            if isinstance(result, dict) and result.get("status") == "rejected":
                self.stats.reject(result)
        if rejected and not report.get("results"):
            self.stats.reject({"status": status, "errors": report.get("errors")})

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def kafka_compression() -> str | None:
    """The codec of the Kafka sink, as the services' producers: ``CW_KAFKA_COMPRESSION``
    (default zstd, through the pinned ``cramjam``; ``none`` sends uncompressed batches).

    >>> os.environ.get("CW_KAFKA_COMPRESSION", "zstd") == (kafka_compression() or "none")
    True
    """
    codec = os.environ.get("CW_KAFKA_COMPRESSION", "zstd").lower()
    return None if codec == "none" else codec


class KafkaSink:
    """Produces to ``topic`` (default ``cw.events.raw``): key = customer_id, value = JSON bytes.

    The producer uses acks=all with idempotence and compresses (`kafka_compression`); ``send``
    returns once every event of the batch is acknowledged. ``producer`` may be any object with
    aiokafka's start/send/stop.
    """

    def __init__(
        self, bootstrap: str, *, topic: str = "cw.events.raw", producer: Any = None
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.producer = producer
        self.stats = SinkStats()
        self._started = False

    async def send(self, batch: Sequence[EventLike]) -> None:
        if not self._started:
            if self.producer is None:  # aiokafka wants to be created inside the event loop
                from aiokafka import AIOKafkaProducer

                self.producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=10,
                    max_batch_size=512 * 1024,
                    request_timeout_ms=30_000,
                    compression_type=kafka_compression(),
                )
            await self.producer.start()
            self._started = True
        futures = []
        for event in batch:
            line = encode_event(event)
            key = customer_key(line).encode()
            futures.append(await self.producer.send(self.topic, value=line.encode(), key=key))
        try:
            await asyncio.gather(*futures)
        except Exception as exc:
            raise SinkError(f"Kafka {self.topic}: {type(exc).__name__}: {exc}") from exc
        self.stats.requests += 1
        self.stats.sent += len(batch)
        self.stats.accepted += len(batch)

    async def close(self) -> None:
        if self._started:
            await self.producer.stop()
            self._started = False


def open_sink(target: str, *, api_key: str | None = None) -> JsonlSink | HttpSink | KafkaSink:
    """A sink from a target: ``kafka://host:port[/topic]``, ``http(s)://…``, or a file path.

    An HTTP sink sends ``api_key``, else ``$CW_INGEST_KEY`` (ingest needs ``events:write``).

    >>> type(open_sink("out.jsonl")).__name__, open_sink("kafka://127.0.0.1:9092/t").topic
    ('JsonlSink', 't')
    """
    if target.startswith("kafka://"):
        rest = target.removeprefix("kafka://")
        bootstrap, _, topic = rest.partition("/")
        return KafkaSink(bootstrap, topic=topic or "cw.events.raw")
    if target.startswith(("http://", "https://")):
        return HttpSink(target, api_key=api_key or os.environ.get("CW_INGEST_KEY"))
    return JsonlSink(target)
