"""Customer search, single view and timeline, and the at-risk list with its CSV export, on the
real database the services write (rows inserted as scoring and alerts store them)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile
from tests.integration.api.conftest import MakeKey
from tests.integration.api.seed import (
    HOUR,
    T0,
    add_exposure,
    add_history,
    add_profile,
    add_scores,
    add_tasks,
    score_row,
    task_row,
)
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration


async def test_customer_endpoints_need_read(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    other = bearer(await make_key(["tasks:write"]))
    for path in ("/v1/customers?q=C", "/v1/customers/C-1", "/v1/customers/C-1/timeline",
                 "/v1/at-risk", "/v1/at-risk.csv"):  # fmt: skip
        assert (await api_client.get(path)).status_code == 401, path
        denied = await api_client.get(path, headers=other)
        assert denied.status_code == 403, path
        assert denied.headers["content-type"] == "application/problem+json"
        assert "read" in denied.json()["detail"]


async def test_single_view_search_and_timeline(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    key = bearer(await make_key(["read"]))
    await add_scores(api_engine, score_row("C-1042", band="critical", p=0.74, tier="platinum"),
                     score_row("C-1043"), score_row("D-1"))  # fmt: skip
    consent = CustomerProfile(consent_phone=1, consent_phone_at=5, consent_email=0,
                              consent_email_at=5)  # fmt: skip
    await add_profile(api_engine, "C-1042", consent)
    await add_history(api_engine, "C-1042")
    await add_tasks(api_engine, task_row("T-open", "C-1042"),
                    task_row("T-old", "C-1042", playbook="service_recovery", created=T0 - 30 * HOUR,
                             due=T0 - 22 * HOUR))  # fmt: skip
    await add_exposure(api_engine, "T-open", "C-1042")
    await add_exposure(api_engine, "X-ctl", "C-1042", arm="control", playbook="offer_at_risk",
                       at=T0 - 2 * HOUR)  # fmt: skip

    found = (await api_client.get("/v1/customers", params={"q": "C-104"}, headers=key)).json()
    assert [c["customer_id"] for c in found["items"]] == ["C-1042", "C-1043"]
    assert found["searched"] == ["id"]
    like = await api_client.get("/v1/customers", params={"q": "C-10%"}, headers=key)
    assert like.json()["items"] == []  # % is literal, not a wildcard

    view = (await api_client.get("/v1/customers/C-1042", headers=key)).json()
    assert view["score"]["band"] == "critical"
    assert view["score"]["reasons"][0]["text"] == "no activity for 38 days"
    assert view["value"] == {"clv": 1000.0, "clv_low": 800.0, "clv_high": 1300.0,
                             "value_if_retained": 1500.0, "value_at_risk": 600.0}  # fmt: skip
    assert (view["tier"], view["lifecycle_stage"], view["rfm_segment"]) == (
        "platinum", "at_risk", "at_risk")  # fmt: skip
    assert view["consent"] == {"email": False, "sms": None, "phone": True, "push": None}
    assert {t["task_id"] for t in view["open_tasks"]} == {"T-open", "T-old"}
    assert [a["arm"] for a in view["actions"]] == ["treated", "control"]
    assert [h["playbook_id"] for h in view["holdout"]] == ["offer_at_risk"]
    assert view["contact"] is None

    missing = await api_client.get("/v1/customers/C-nobody", headers=key)
    assert missing.status_code == 404
    assert "C-nobody" in missing.json()["detail"]

    page = (await api_client.get("/v1/customers/C-1042/timeline", params={"limit": 3},
                                 headers=key)).json()  # fmt: skip
    seen = [(i["kind"], i["at"]) for i in page["items"]]
    while page["next_cursor"]:
        page = (await api_client.get("/v1/customers/C-1042/timeline", headers=key,
                params={"limit": 3, "cursor": page["next_cursor"]})).json()  # fmt: skip
        seen += [(i["kind"], i["at"]) for i in page["items"]]
    kinds = sorted(k for k, _ in seen)
    assert kinds == ["action", "action", "band_change", "score", "stage", "task", "task"]
    assert [at for _, at in seen] == sorted((at for _, at in seen), reverse=True)

    bad = await api_client.get("/v1/customers/C-1042/timeline", params={"cursor": "zz"},
                               headers=key)  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.cursor"


async def test_at_risk_filters_sorts_pages_and_exports(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    key = bearer(await make_key(["read"]))
    rows = [score_row(f"C-{i:03d}", var=float(100 + (i * 37) % 50), p=i / 100, clv=float(i),
                      band="critical" if i % 3 == 0 else "high",
                      tier="platinum" if i % 2 else "gold") for i in range(1, 31)]  # fmt: skip
    rows.append(score_row("C-low", band="low", var=10_000.0))
    await add_scores(api_engine, *rows)
    await add_tasks(api_engine, task_row("T-1", "C-003"))
    await add_exposure(api_engine, "T-1", "C-003", playbook="save_call_vip")

    async def walk(params: dict[str, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
            page = (await api_client.get("/v1/at-risk", params=query, headers=key)).json()
            out += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    everyone = await walk({})
    assert len(everyone) == 30  # low band is not at risk by default
    pairs = [(r["value_at_risk"], r["customer_id"]) for r in everyone]
    assert pairs == sorted(pairs, reverse=True)
    by_p = await walk({"sort": "churn_probability", "order": "asc"})
    assert [r["customer_id"] for r in by_p][:2] == ["C-001", "C-002"]
    gold_critical = await walk({"tier": "gold", "band": "critical"})
    assert {r["customer_id"] for r in gold_critical} == {f"C-{i:03d}" for i in (6, 12, 18, 24, 30)}
    with_task = await walk({"has_open_task": "true"})
    assert [(r["customer_id"], r["has_open_task"]) for r in with_task] == [("C-003", True)]
    by_playbook = await walk({"playbook": "save_call_vip"})
    assert [r["customer_id"] for r in by_playbook] == ["C-003"]
    assert len(await walk({"band": "low"})) == 1

    first = (await api_client.get("/v1/at-risk", params={"limit": 2}, headers=key)).json()
    other_sort = {"sort": "clv", "cursor": first["next_cursor"]}
    mixed = await api_client.get("/v1/at-risk", headers=key, params=other_sort)
    assert mixed.status_code == 422
    wrong = await api_client.get("/v1/at-risk", params={"band": "purple"}, headers=key)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"].startswith("query.band")

    export = await api_client.get("/v1/at-risk.csv", params={"tier": "gold"}, headers=key)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert 'filename="at-risk_band-high+critical_tier-gold_sort-value_at_risk-desc.csv"' in (
        export.headers["content-disposition"])  # fmt: skip
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert len(table) == 15
    assert all(r["tier"] == "gold" and r["customer_id"].startswith("C-0") for r in table)
    assert table[0]["reasons"] == "no activity for 38 days"


async def test_contact_details_only_with_pii_read_and_audited(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    from sqlalchemy import text

    from tests.integration.api.seed import scalar

    await add_scores(api_engine, score_row("C-7"))
    async with api_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO customer_directory (customer_id, name, email, phone, updated_at)"
                 " VALUES ('C-7', 'Jana Novak', 'jana@example.com', '+49 30 1', :t)"),
            {"t": T0},
        )  # fmt: skip
    plain = bearer(await make_key(["read"]))
    pii = bearer(await make_key(["read", "pii:read"], name="caller"))

    hidden = (await api_client.get("/v1/customers/C-7", headers=plain)).json()
    assert hidden["contact"] is None
    by_name = (await api_client.get("/v1/customers", params={"q": "novak"}, headers=plain)).json()
    assert (by_name["items"], by_name["searched"]) == ([], ["id"])
    assert await scalar(api_engine, "SELECT count(*) FROM api_audit WHERE action LIKE 'pii.%'") == 0

    shown = (await api_client.get("/v1/customers/C-7", headers=pii)).json()
    assert shown["contact"] == {"name": "Jana Novak", "email": "jana@example.com",
                                "phone": "+49 30 1"}  # fmt: skip
    found = (await api_client.get("/v1/customers", params={"q": "novak"}, headers=pii)).json()
    assert ([c["customer_id"] for c in found["items"]], found["searched"]) == (
        ["C-7"], ["id", "name_email"])  # fmt: skip
    audit_sql = ("SELECT string_agg(action || ':' || target || ':' || actor, ',' ORDER BY id)"
                 " FROM api_audit WHERE action LIKE 'pii.%'")  # fmt: skip
    audited = await scalar(api_engine, audit_sql)
    assert audited == "pii.read:C-7:caller,pii.search:C-7:caller"
