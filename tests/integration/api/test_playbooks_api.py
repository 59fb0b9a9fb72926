"""Playbooks over HTTP (list, show, validate with YAML paths, apply, enable, disable) and the
uplift report by tier — with the counts so far before the uplift job's first report."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts import seed_defaults
from churnwatch_alerts.uplift import UpliftConfig, run_once
from tests.integration.api.conftest import MakeKey
from tests.integration.api.seed import T0, add_exposure, scalar
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration


async def test_playbooks(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    async with api_engine.begin() as conn:
        await seed_defaults(conn)
    reader = bearer(await make_key(["read"]))
    writer = bearer(await make_key(["playbooks:write"], name="ops"))

    listed = (await api_client.get("/v1/playbooks", headers=reader)).json()
    assert "save_call_vip" in {p["id"] for p in listed}
    shown = (await api_client.get("/v1/playbooks/save_call_vip", headers=reader)).json()
    assert shown["enabled_version"] == 1
    entry = yaml.safe_load(shown["yaml"])["playbooks"][0]
    assert entry["id"] == "save_call_vip"
    assert (await api_client.get("/v1/playbooks/nope", headers=reader)).status_code == 404

    document = {"document": shown["yaml"]}
    for path in ("/v1/playbooks/validate", "/v1/playbooks"):
        assert (await api_client.post(path, headers=reader, json=document)).status_code == 403
    ok = (await api_client.post("/v1/playbooks/validate", headers=writer, json=document)).json()
    assert ok == {"valid": True, "playbooks": ["save_call_vip v1"], "errors": []}

    broken = {**entry, "version": 2, "trigger": {"type": "band_enter"}}
    bad_doc = {"document": yaml.safe_dump({"playbooks": [broken]})}
    checked = (await api_client.post("/v1/playbooks/validate", headers=writer, json=bad_doc)).json()
    assert checked["valid"] is False
    assert checked["errors"][0]["field"].startswith("playbooks[0].trigger")
    refused = await api_client.post("/v1/playbooks", headers=writer, json=bad_doc)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"].startswith("playbooks[0].trigger")

    changed = {**entry, "name": "changed without a new version"}
    same_version = {"document": yaml.safe_dump({"playbooks": [changed]})}
    conflict = await api_client.post("/v1/playbooks", headers=writer, json=same_version)
    assert conflict.status_code == 409
    assert "version 2" in conflict.json()["detail"]

    v2 = {**entry, "version": 2, "holdout": 0.2}
    next_version = {"document": yaml.safe_dump({"playbooks": [v2]})}
    applied = await api_client.post("/v1/playbooks", headers=writer, json=next_version)
    assert applied.json() == [{"id": "save_call_vip", "version": 2, "status": "added",
                               "disabled_versions": [1]}]  # fmt: skip
    off = await api_client.post("/v1/playbooks/save_call_vip/disable", headers=writer)
    assert off.json() == {"id": "save_call_vip", "enabled_version": None}
    on = await api_client.post("/v1/playbooks/save_call_vip/enable", headers=writer,
                               params={"version": 1})  # fmt: skip
    assert on.json() == {"id": "save_call_vip", "enabled_version": 1}
    assert (await api_client.post("/v1/playbooks/nope/enable", headers=writer)).status_code == 404
    audited = await scalar(api_engine, "SELECT count(*) FROM api_audit WHERE actor = 'ops'")
    assert audited == 3


async def test_uplift_so_far_then_report(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    reader = bearer(await make_key(["read"]))
    assert (await api_client.get("/v1/uplift")).status_code == 401
    nothing = (await api_client.get("/v1/playbooks/save_call_vip/uplift", headers=reader)).json()
    assert nothing == {"playbook_id": "save_call_vip", "report": None, "so_far": []}

    for i in range(6):
        await add_exposure(api_engine, f"X-{i}", f"C-{i}", arm="control" if i < 2 else "treated",
                           tier="gold" if i % 2 else "silver", at=T0,
                           churned=(i in (0, 2)) if i < 4 else None)  # fmt: skip
    early = (await api_client.get("/v1/playbooks/save_call_vip/uplift", headers=reader)).json()
    assert early["report"] is None
    total = early["so_far"][0]
    assert total["segment"] == "all"
    assert (total["treated"], total["control"]) == (4, 2)
    assert (total["resolved_treated"], total["resolved_control"]) == (2, 2)
    assert (total["churned_treated"], total["churned_control"]) == (1, 1)
    assert {s["segment"] for s in early["so_far"]} == {"all", "gold", "silver"}

    async with api_engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO partition_watermarks (group_id, topic, partition, watermark)"
            " VALUES ('scoring', 'cw.events', 0, '2026-03-11T00:00:00Z')"
        )
    done = await run_once(api_engine, UpliftConfig(), now=datetime(2026, 3, 11, tzinfo=UTC))
    assert done.status == "done"
    reported = (await api_client.get("/v1/uplift", headers=reader)).json()
    [pb] = reported
    assert pb["so_far"] == []
    segments = {s["segment"]: s for s in pb["report"]["segments"]}
    assert segments["all"]["treated"] == 2  # the resolved ones
    assert segments["all"]["honest_save_rate"]["low"] is not None
