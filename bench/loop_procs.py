"""The processes of the closed loop (`bench.loop`): their environment, start and stop, and the
optional lifted playbooks stored before alerts starts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bench.harness import Context
from bench.infra import service

__all__ = [
    "HORIZON_DAYS",
    "PLAYBOOK",
    "lifted_playbook_rows",
    "pg_url",
    "seed_lifted",
    "service_env",
    "services",
]

HORIZON_DAYS = 30  # the alerts uplift horizon, the churn model's and the simulator's truth
PLAYBOOK = "save_call_vip"


def pg_url(url: str) -> str:
    return url.replace("+asyncpg", "").replace("+psycopg", "")


def lifted_playbook_rows() -> list[tuple[str, int, str, bool]]:
    """The shipped playbook rows with save_call_vip's tier condition lifted (version 2) and
    offer_at_risk (same trigger, would take those customers first) disabled.

    >>> [(i, v, e, "tier" in y) for i, v, y, e in lifted_playbook_rows()][:2]
    [('save_call_vip', 2, True, False), ('offer_at_risk', 1, False, True)]
    """
    import yaml

    from churnwatch_alerts.playbooks import default_rows

    out = []
    for pid, version, text, enabled in default_rows():
        if pid == PLAYBOOK:
            doc = yaml.safe_load(text)
            doc.pop("condition", None)
            doc["version"] = version = version + 1
            text = yaml.safe_dump(doc, sort_keys=False)
        elif pid == "offer_at_risk":
            enabled = False
        out.append((pid, version, text, enabled))
    return out


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


async def seed_lifted(db_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_url(db_url))
    try:
        if await conn.fetchval("SELECT count(*) FROM playbooks"):
            raise RuntimeError("--lift-tier-condition needs an empty playbooks table")
        await conn.executemany(
            "INSERT INTO playbooks (id, version, yaml, enabled, loaded_at)"
            " VALUES ($1, $2, $3, $4, now())",
            lifted_playbook_rows(),
        )
    finally:
        await conn.close()
