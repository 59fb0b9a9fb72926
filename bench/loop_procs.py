"""The processes of the closed loop (`bench.loop`): their environment, start and stop, and the
optional measurement holdout of save_call_vip stored before alerts starts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bench.harness import Context
from bench.infra import service

__all__ = [
    "HORIZON_DAYS",
    "PLAYBOOK",
    "measured_playbook",
    "pg_url",
    "seed_measured",
    "service_env",
    "services",
]

HORIZON_DAYS = 30  # the alerts uplift horizon, the churn model's and the simulator's truth
PLAYBOOK = "save_call_vip"


def pg_url(url: str) -> str:
    return url.replace("+asyncpg", "").replace("+psycopg", "")


def measured_playbook(holdout: float) -> str:
    """save_call_vip as shipped but version 2 with ``holdout`` as its control share: the
    document an operator applies (`churnwatch playbooks apply`) to measure the playbook.

    >>> import yaml
    >>> doc = yaml.safe_load(measured_playbook(0.5))["playbooks"][0]
    >>> doc["id"], doc["version"], doc["holdout"], doc["condition"]["all"][0]["field"]
    ('save_call_vip', 2, 0.5, 'tier')
    """
    import yaml

    from churnwatch_alerts.playbooks import default_rows

    (text,) = [t for pid, _, t, _ in default_rows() if pid == PLAYBOOK]
    doc = yaml.safe_load(text)
    doc["version"] += 1
    doc["holdout"] = holdout
    return yaml.safe_dump({"playbooks": [doc]}, sort_keys=False)


def service_env(
    bootstrap: str,
    db_url: str,
    topics: dict[str, str],
    groups: dict[str, str],
    ports: dict[str, int],
    partitions: int,
) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap,
        DATABASE_URL=db_url,
        CW_LOG_LEVEL="WARNING",
        CW_TOPIC_PARTITIONS=str(partitions),
        CW_TOPIC_EVENTS=topics["events"],
        CW_TOPIC_EVENTS_RAW=topics["raw"],
        CW_TOPIC_EVENTS_DLQ=topics["dlq"],
        CW_TOPIC_SCORES=topics["scores"],
        CW_TOPIC_ACTIONS=topics["actions"],
        CW_SCORING_GROUP_ID=groups["scoring"],
        CW_SCORING_PORT=str(ports["scoring"]),
        CW_LEARNER_GROUP_ID=groups["scoring"],
        CW_ALERTS_GROUP_ID=groups["alerts"],
        CW_ALERTS_PORT=str(ports["alerts"]),
        CW_ALERTS_UPLIFT="false",
        CW_ALERTS_UPLIFT_WATERMARK_GROUP=groups["scoring"],
        CW_ALERTS_UPLIFT_HORIZON_DAYS=str(HORIZON_DAYS),
    )
    return env


@contextmanager
def services(ctx: Context, env: dict[str, str]) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    with ExitStack() as stack:
        yield {
            "scoring": stack.enter_context(
                service(ctx, ["churnwatch_scoring"], env, "scoring.log")
            ),
            "learner": stack.enter_context(
                service(ctx, ["churnwatch_scoring.learner"], env, "learner.log")
            ),
            "alerts": stack.enter_context(service(ctx, ["churnwatch_alerts"], env, "alerts.log")),
        }


async def seed_measured(db_url: str, holdout: float) -> None:
    """The shipped playbooks, then `measured_playbook` applied through the catalog, before
    alerts starts (it stores the defaults only into an empty table)."""
    from churnwatch_alerts.catalog import apply_document
    from churnwatch_alerts.playbooks import seed_defaults
    from churnwatch_runtime.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await seed_defaults(conn)
            await apply_document(conn, measured_playbook(holdout))
    finally:
        await engine.dispose()
