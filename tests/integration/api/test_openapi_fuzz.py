"""schemathesis against the API's own OpenAPI, in-process on a real migrated PostgreSQL.

Every operation, generated from its declaration (valid and invalid inputs): with an admin key
(``admin`` implies every scope, so no endpoint hides behind a 403) the API never answers 5xx, and
every answer — success or problem — has a declared status code, a declared content type and a
body matching its declared schema. Without a key every protected operation answers 401 as
problem details. Examples per operation are few and derandomized (profile ``ci``) so the run is
the same every time and bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from churnwatch.profile import CustomerProfile
from churnwatch_alerts import agents, seed_defaults
from churnwatch_api import ApiSettings, create_app
from churnwatch_api.problems import MEDIA_TYPE
from churnwatch_api.store.keys import create_key
from churnwatch_runtime.db import make_engine
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

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# /v1/live is an endless event stream: a response never completes, so there is no body to check
# against a schema (its framing, auth and resume are tested through uvicorn in test_live_api).
ENDLESS = "/v1/live"
# Answered without credentials by design: probes, the login that makes a session, the logout.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/v1/session"),
          ("DELETE", "/v1/session")}  # fmt: skip


async def _seed(url: str) -> str:
    """Rows as the services write them — ids matching the OpenAPI examples, so the generated
    requests reach real customers, tasks, agents and playbooks — and the admin key."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await seed_defaults(conn)
        await agents.add_agent(engine, "A-1", "save", max_open=5)
        await add_scores(
            engine,
            score_row("C-1042"),
            score_row("C-1043", band="critical", p=0.9, tier="platinum", var=2000.0),
            score_row("C-2001", band="low", p=0.1, tier="bronze", stage="active",
                      segment="champions", var=10.0),
        )  # fmt: skip
        consent = CustomerProfile(consent_phone=1, consent_phone_at=5, consent_email=0,
                                  consent_email_at=5)  # fmt: skip
        await add_profile(engine, "C-1042", consent)
        await add_history(engine, "C-1042")
        await add_tasks(
            engine,
            task_row("a3f9c2e41b7d", "C-1042"),
            task_row("T-old", "C-1043", playbook="service_recovery", created=T0 - 30 * HOUR,
                     due=T0 - 22 * HOUR, state="assigned", assignee="A-1"),
        )  # fmt: skip
        await add_exposure(engine, "a3f9c2e41b7d", "C-1042", churned=False)
        await add_exposure(engine, "X-ctl", "C-2001", arm="control", churned=True)
        async with engine.begin() as conn:
            _, key = await create_key(conn, name="fuzz-admin", scopes=["admin"])
        return key
    finally:
        await engine.dispose()


@pytest.fixture
def admin_key(fresh_database: str) -> str:
    return asyncio.run(_seed(fresh_database))


@pytest.fixture
def api_schema(fresh_database: str, admin_key: str) -> Iterator[Any]:
    """The schema as the app serves it, bound to the app (schemathesis runs its lifespan)."""
    app = create_app(ApiSettings(database_url=fresh_database, auth_cache_ttl_s=0,
                                 rate_limit_per_s=0, log_json=False))  # fmt: skip
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    # schemathesis keeps an app's lifespan running until exit: close its engine now instead
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture
def anonymous_schema(api_schema: Any) -> Any:
    """Valid requests only, and no NUL characters: both are refused (422) before credentials
    are read (FastAPI parses the body first; ``refuse_nul`` is an app-wide dependency)."""
    api_schema.config.generation.update(modes=[GenerationMode.POSITIVE], allow_x00=False)
    return api_schema


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the running item through ``node._nodeid`` (per operation, for
    its report), an attribute pytest 9.2 no longer has: give it one to write to."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path=ENDLESS)
anonymous = schemathesis.pytest.from_fixture("anonymous_schema").exclude(path=ENDLESS)


@settings(max_examples=25)
@schema.parametrize()
def test_every_operation_conforms_with_an_admin_key(case: Any, admin_key: str) -> None:
    case.call_and_validate(headers=bearer(admin_key), checks=CHECKS)


@settings(max_examples=5)
@anonymous.parametrize()
def test_every_protected_operation_refuses_without_a_key(case: Any) -> None:
    response = case.call_and_validate(checks=CHECKS)
    if (case.method.upper(), case.path) in PUBLIC:
        return
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == [MEDIA_TYPE]
    assert response.json()["status"] == 401
