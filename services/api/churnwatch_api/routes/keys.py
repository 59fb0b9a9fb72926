"""Key management over HTTP (scope ``admin``): list, create (the key is shown once), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, field_validator

from churnwatch.auth import Principal, parse_scopes
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.store import audit
from churnwatch_api.store.keys import KeyInfo, UnknownAgent, create_key, list_keys, revoke_key

router = APIRouter(tags=["keys"], responses=problem_responses(401, 403, 429))
Admin = Annotated[Principal, Depends(require("admin"))]


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["save-team laptop"])
    scopes: list[str] = Field(min_length=1, examples=[["read", "tasks:write"]])
    agent_id: str | None = Field(None, max_length=100, examples=["A-1"])

    @field_validator("scopes")
    @classmethod
    def known(cls, scopes: list[str]) -> list[str]:
        return sorted(parse_scopes(scopes))


class KeyCreated(KeyInfo):
    key: str = Field(description="the key itself: shown only in this answer, never again")


@router.get("/v1/keys", summary="Every key (without secrets)")
async def get_keys(engine: EngineDep, _: Admin, include_revoked: bool = False) -> list[KeyInfo]:
    async with engine.connect() as conn:
        return await list_keys(conn, include_revoked=include_revoked)


@router.post(
    "/v1/keys",
    summary="Create a key (the answer holds it, once)",
    status_code=201,
    responses=problem_responses(422),
)
async def post_key(body: KeyCreate, engine: EngineDep, who: Admin) -> KeyCreated:
    try:
        async with engine.begin() as conn:
            info, key = await create_key(
                conn, name=body.name, scopes=body.scopes, agent_id=body.agent_id
            )
            await audit.record(conn, "key.create", info.id, who=who)
    except UnknownAgent as exc:
        errors = [{"field": "body.agent_id", "message": str(exc)}]
        raise Problem(422, "Invalid request", str(exc), errors=errors) from exc
    return KeyCreated(**info.model_dump(), key=key)


@router.delete(
    "/v1/keys/{key_id}",
    summary="Revoke a key and end its sessions (idempotent)",
    status_code=204,
    responses=problem_responses(404),
)
async def delete_key(key_id: str, request: Request, engine: EngineDep, who: Admin) -> Response:
    async with engine.begin() as conn:
        info = await revoke_key(conn, key_id)
        if info is None:
            raise Problem(404, detail=f"no key {key_id!r}")
        await audit.record(conn, "key.revoke", key_id, who=who)
    request.app.state.auth.forget(key_id)
    return Response(status_code=204)
