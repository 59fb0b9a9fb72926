"""Personal data never reaches a log line or a metric: a profile event with a known name, e-mail
and phone goes through ingest and scoring with every logger captured at DEBUG, then the log
records (messages and structured extras) and scoring's /metrics are searched for them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EventType
from tests.integration.scoring.support import EventFactory, processor, rows, run_until_consumed
from tests.support.infra import Broker, unique
from tests.support.privacy import ingest

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
NAME, EMAIL, PHONE = "Wilhelmina Zedtwitz", "w.zedtwitz@example.net", "+43 1 5550123"
SECRETS = (NAME, EMAIL, PHONE, "Zedtwitz", "zedtwitz@")


async def test_personal_data_is_in_no_log_line_and_no_metric(
    db: AsyncEngine,
    fresh_database: str,
    kafka: Broker,
    topic_factory: Topic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    events, scores = await topic_factory("pii.log.events", 3), await topic_factory("pii.log.s", 3)
    f = EventFactory(unique("plog"))
    sent = [
        f.make("C-L", EventType.CUSTOMER_PROFILE, 0.0, name=NAME, email=EMAIL, phone=PHONE),
        f.make("C-L", EventType.NPS, 0.5, score=1, comment=f"call {NAME} on {PHONE}"),
    ]
    await ingest(fresh_database, kafka.bootstrap, events, sent)
    proc = processor(unique("g"), scores_topic=scores)
    await run_until_consumed(db, proc, bootstrap=kafka.bootstrap, topic=events, total=len(sent))
    (scored,) = await rows(db, "SELECT customer_id FROM latest_scores WHERE customer_id = 'C-L'")
    assert scored  # it went all the way through

    logged = [r.getMessage() + " " + " ".join(map(repr, vars(r).values())) for r in caplog.records]
    assert logged  # the services did log (ingest, the worker): there was something to search
    rendered = proc.metrics.render().decode()  # ingest's labels: source and reason codes only
    for secret in SECRETS:
        assert not [line for line in logged if secret in line], secret
        assert secret not in rendered
