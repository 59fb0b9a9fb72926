"""The dashboard's session: log in with a key, get a secure http-only cookie; log out; who am I.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page sends
it, which is the CSRF defence) and ``Secure`` unless ``CW_API_COOKIE_SECURE=false`` (the
plain-http localhost demo).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_api.deps import SESSION_COOKIE, EngineDep, limit, require
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.store import audit, sessions

router = APIRouter(tags=["session"])


class Login(BaseModel):
    key: str = Field(
        min_length=1, max_length=200, examples=["cwk_0a1b2c3d4e_" + "x" * 43], repr=False
    )


class Me(BaseModel):
    """The caller: which key, the name the audit log records, the agent, the scopes."""

    key_id: str = Field(examples=["0a1b2c3d4e"])
    name: str = Field(examples=["alice"])
    actor: str = Field(examples=["A-1"])
    agent_id: str | None = Field(examples=["A-1"])
    scopes: list[str] = Field(examples=[["read", "tasks:write"]])

    @classmethod
    def of(cls, who: Principal) -> Me:
        return cls(
            key_id=who.key_id,
            name=who.name,
            actor=who.actor,
            agent_id=who.agent_id,
            scopes=sorted(who.scopes),
        )


@router.post(
    "/v1/session",
    summary="Log in with an API key; sets the session cookie",
    responses=problem_responses(401, 422, 429),
)
async def login(body: Login, request: Request, response: Response, engine: EngineDep) -> Me:
    client = request.client.host if request.client else "unknown"
    limit(request, "login:" + client)
    who = await request.app.state.auth.by_key(body.key)
    if who is None:
        request.app.state.metrics.auth_failures.labels("bad_login").inc()
        raise Problem(401, detail="this API key is unknown, malformed or revoked")
    settings = request.app.state.settings
    async with engine.begin() as conn:
        token = await sessions.open_session(conn, who.key_id, settings.session_lifetime)
        await audit.record(conn, "session.login", who.key_id, who=who)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_lifetime.total_seconds()),
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return Me.of(who)


@router.delete("/v1/session", summary="Log out: end the session, clear the cookie", status_code=204)
async def logout(request: Request, engine: EngineDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with engine.begin() as conn:
            key_id = await sessions.close_session(conn, token)
            if key_id is not None:
                await audit.record(conn, "session.logout", key_id, actor="session")
        request.app.state.auth.forget_session(token)
    response = Response(status_code=204)
    settings = request.app.state.settings
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="strict"
    )
    return response


@router.get(
    "/v1/me", summary="The caller's key, actor and scopes", responses=problem_responses(401, 429)
)
async def me(who: Annotated[Principal, Depends(require())]) -> Me:
    return Me.of(who)
