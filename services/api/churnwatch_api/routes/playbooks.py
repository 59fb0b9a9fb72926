"""Playbooks: list and show (``read``); validate, apply, enable, disable (``playbooks:write``).

Thin over `churnwatch_alerts.catalog` (behind ``churnwatch playbooks …``): versions are
immutable, applying is all-or-nothing, the alerts workers pick changes up within their playbook
poll (10 s). A rejected document answers 422 with one ``errors`` entry per problem, its
``field`` the path inside the YAML (``playbooks[0].trigger.type``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import yaml
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from churnwatch.alerts import PlaybookError
from churnwatch.auth import Principal
from churnwatch_alerts import catalog
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import TYPE_BASE, Problem, problem_responses
from churnwatch_api.store import audit
from churnwatch_api.store.playbooks import playbook_yaml

router = APIRouter(tags=["playbooks"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("playbooks:write"))]
PlaybookId = Annotated[str, Path(min_length=1, max_length=100, examples=["save_call_vip"])]

EXAMPLE = """playbooks:
  - id: save_call_vip
    version: 2
    name: Save call for valuable customers at high risk
    trigger: {type: band_entered, band: high}
    condition: {field: tier, op: in, value: [platinum, gold]}
    action: {type: save_call, mode: task, team: save, sla: 8h}
    holdout: 0.1
"""


class PlaybookOut(BaseModel):
    id: str = Field(examples=["save_call_vip"])
    version: int = Field(examples=[1])
    enabled: bool
    name: str = Field(examples=["Save call for valuable customers at high risk"])
    trigger: str = Field(examples=["band_entered"])
    action: str = Field(examples=["save_call"])
    holdout: float = Field(examples=[0.1], description="share of matches held out")
    loaded_at: datetime

    @classmethod
    def of(cls, r: catalog.PlaybookRow) -> PlaybookOut:
        return cls(id=r.id, version=r.version, enabled=r.enabled, name=r.name,
                   trigger=r.trigger, action=r.action, holdout=r.holdout,
                   loaded_at=r.loaded_at)  # fmt: skip


class PlaybookShown(BaseModel):
    id: str
    enabled_version: int | None = Field(description="null: every version disabled")
    versions: list[PlaybookOut]
    yaml: str = Field(description="the enabled version (else the newest) as a document ready to"
                      " edit, bump `version`, and apply")  # fmt: skip


class Document(BaseModel):
    document: str = Field(
        min_length=1, max_length=200_000, examples=[EXAMPLE],
        description="YAML: `{playbooks: [...]}` or a list of playbooks (docs/playbooks.md)",
    )  # fmt: skip


class Issue(BaseModel):
    field: str = Field(examples=["playbooks[0].trigger.type"], description="path in the YAML")
    message: str = Field(examples=["unknown trigger type 'band_enter'"])


class Validation(BaseModel):
    valid: bool
    playbooks: list[str] = Field(examples=[["save_call_vip v2"]])
    errors: list[Issue]


class AppliedOut(BaseModel):
    id: str
    version: int
    status: Literal["added", "unchanged", "enabled"]
    disabled_versions: list[int]


class Toggled(BaseModel):
    id: str
    enabled_version: int | None


def issues(exc: PlaybookError) -> list[Issue]:
    return [Issue(field=i.path or "document", message=i.message) for i in exc.issues]


def rejected(exc: PlaybookError) -> Problem:
    """422 with every problem and its YAML path."""
    found = issues(exc)
    detail = "; ".join(f"{i.field}: {i.message}" for i in found[:3])
    return Problem(422, "Invalid playbook", detail, type_=TYPE_BASE + "invalid-playbook",
                   errors=[i.model_dump() for i in found])  # fmt: skip


@router.get("/v1/playbooks", summary="Stored playbooks (enabled ones unless all=true)")
async def list_playbooks(engine: EngineDep, _: Reader, all: bool = False) -> list[PlaybookOut]:
    async with engine.connect() as conn:
        rows = await catalog.list_playbooks(conn, all_versions=all)
    return [PlaybookOut.of(r) for r in rows]


@router.get(
    "/v1/playbooks/{playbook_id}",
    summary="One playbook: its versions and YAML",
    responses=problem_responses(404),
)
async def show(
    playbook_id: PlaybookId,
    engine: EngineDep,
    _: Reader,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,  # an INTEGER column
) -> PlaybookShown:
    async with engine.connect() as conn:
        rows = [r for r in await catalog.list_playbooks(conn, all_versions=True)
                if r.id == playbook_id]  # fmt: skip
        enabled = next((r.version for r in rows if r.enabled), None)
        wanted = version or enabled or (rows[-1].version if rows else None)
        text = await playbook_yaml(conn, playbook_id, wanted) if wanted else None
    if not rows or text is None:
        which = playbook_id if version is None else f"{playbook_id} v{version}"
        raise Problem(404, detail=f"no stored playbook {which}")
    document = yaml.safe_dump({"playbooks": [yaml.safe_load(text)]}, sort_keys=False)
    return PlaybookShown(id=playbook_id, enabled_version=enabled,
                         versions=[PlaybookOut.of(r) for r in rows], yaml=document)  # fmt: skip


@router.post("/v1/playbooks/validate", summary="Check a document without storing it")
async def validate(body: Document, _: Writer) -> Validation:
    """Always 200: ``valid`` false with ``errors`` (YAML paths) for a document with problems."""
    try:
        found = catalog.check_document(body.document)
    except PlaybookError as exc:
        return Validation(valid=False, playbooks=[], errors=issues(exc))
    return Validation(valid=True, playbooks=[f"{p.id} v{p.version}" for p in found], errors=[])


@router.post(
    "/v1/playbooks",
    summary="Apply a document: new versions, enabled ones replace the id's others",
    responses=problem_responses(409),
)
async def apply(body: Document, engine: EngineDep, who: Writer) -> list[AppliedOut]:
    """All or nothing; changing a stored version is refused (409) with the next free number."""
    try:
        async with engine.begin() as conn:
            done = await catalog.apply_document(conn, body.document)
            for a in done:
                await audit.record(conn, f"playbook.{a.status}", f"{a.id} v{a.version}", who=who)
    except PlaybookError as exc:
        raise rejected(exc) from None
    except catalog.VersionConflict as exc:
        raise Problem(409, detail=str(exc)) from None
    return [AppliedOut(id=a.id, version=a.version, status=a.status,
                       disabled_versions=list(a.disabled)) for a in done]  # fmt: skip


async def _toggle(
    engine: EngineDep, who: Principal, playbook_id: str, on: bool, version: int | None
) -> Toggled:
    try:
        async with engine.begin() as conn:
            enabled = await catalog.set_enabled(conn, playbook_id, on, version)
            action = "playbook.enable" if on else "playbook.disable"
            await audit.record(conn, action, playbook_id, who=who)
    except catalog.UnknownPlaybook as exc:
        raise Problem(404, detail=str(exc)) from None
    except PlaybookError as exc:
        raise rejected(exc) from None
    return Toggled(id=playbook_id, enabled_version=enabled)


@router.post(
    "/v1/playbooks/{playbook_id}/enable",
    summary="Enable a version (the newest unless given); the id's others are disabled",
    responses=problem_responses(404),
)
async def enable(
    playbook_id: PlaybookId,
    engine: EngineDep,
    who: Writer,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,  # an INTEGER column
) -> Toggled:
    return await _toggle(engine, who, playbook_id, True, version)


@router.post(
    "/v1/playbooks/{playbook_id}/disable",
    summary="Disable every version: it stops matching; its history stays",
    responses=problem_responses(404),
)
async def disable(playbook_id: PlaybookId, engine: EngineDep, who: Writer) -> Toggled:
    return await _toggle(engine, who, playbook_id, False, None)
