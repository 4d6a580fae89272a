"""A mock of Atlassian Statuspage's incidents API, served over real HTTP on a loopback port.

It checks the `Authorization: OAuth <key>` header, records every request (with its raw body),
keeps the incidents it was asked to create, and can be told to fail the next requests: an HTTP
status (500, 429 with `Retry-After`, 422 with an error message) or a create that is carried out
but whose connection drops before the answer.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support.loopback import serve_on_loopback

API_KEY = "sp-test-key-0123456789"
PAGE_ID = "abc123"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: str  # the body as sent
    status: int = 0  # what the mock answered (0: the connection was dropped)
    at: float = field(default_factory=time.monotonic)

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def incident(self) -> dict[str, Any]:
        return dict(self.body["incident"])


@dataclass
class _Failure:
    status: int  # 0: carry the request out, then drop the connection without answering
    error: Any
    retry_after: float | None


@dataclass
class MockStatuspageIo:
    api_key: str = API_KEY
    page_id: str = PAGE_ID
    requests: list[Request] = field(default_factory=list)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> MockStatuspageIo:
        app = web.Application()
        base = "/v1/pages/{page_id}/incidents"
        app.router.add_post(base, self._create)
        app.router.add_get(base + "/unresolved", self._unresolved)
        app.router.add_get(base + "/upcoming", self._upcoming)
        app.router.add_patch(base + "/{incident_id}", self._update)
        self._runner, port = await serve_on_loopback(app)
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        error: Any = "Internal Server Error",
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        self._failures.setdefault(method, []).extend(
            _Failure(status, error, retry_after) for _ in range(times)
        )

    def drop_after_next_create(self) -> None:
        """The next POST creates the incident, then the connection drops: the answer is lost."""
        self._failures.setdefault("POST", []).append(_Failure(0, None, None))

    def of(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    # -- the API ---------------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.StreamResponse:
        recorded, refusal = await self._receive(request)
        if refusal is not None:
            return refusal
        fields = recorded.incident
        incident_id = f"inc{next(self._ids):04d}"
        now = datetime.now(UTC).isoformat()
        self.incidents[incident_id] = {
            "id": incident_id,
            "page_id": self.page_id,
            "name": fields.get("name"),
            "status": fields.get("status", "investigating"),
            "created_at": now,
            "updated_at": now,
            "component_ids": fields.get("component_ids", []),
            "components": dict(fields.get("components") or {}),
            "incident_updates": [{"status": fields.get("status"), "body": fields.get("body")}],
            **{k: v for k, v in fields.items() if k.startswith("scheduled_")},
        }
        return await self._answer(request, recorded, 201, self.incidents[incident_id])

    async def _update(self, request: web.Request) -> web.StreamResponse:
        recorded, refusal = await self._receive(request)
        if refusal is not None:
            return refusal
        incident = self.incidents.get(request.match_info["incident_id"])
        if incident is None:
            return self._error(recorded, 404, "The requested resource could not be found.")
        fields = recorded.incident
        for key in ("name", "status", "component_ids"):
            if key in fields:
                incident[key] = fields[key]
        incident["components"].update(fields.get("components") or {})
        incident["incident_updates"].append(
            {"status": fields.get("status"), "body": fields.get("body")}
        )
        incident["updated_at"] = datetime.now(UTC).isoformat()
        return await self._answer(request, recorded, 200, incident)

    async def _unresolved(self, request: web.Request) -> web.StreamResponse:
        recorded, refusal = await self._receive(request)
        if refusal is not None:
            return refusal
        found = [
            i
            for i in self.incidents.values()
            if i["status"] not in ("resolved", "postmortem", "completed", "scheduled")
        ]
        return await self._answer(request, recorded, 200, found)

    async def _upcoming(self, request: web.Request) -> web.StreamResponse:
        recorded, refusal = await self._receive(request)
        if refusal is not None:
            return refusal
        found = [i for i in self.incidents.values() if i["status"] == "scheduled"]
        return await self._answer(request, recorded, 200, found)

    # -- plumbing --------------------------------------------------------------------------------

    async def _receive(self, request: web.Request) -> tuple[Request, web.Response | None]:
        recorded = Request(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            raw=(await request.text()) if request.can_read_body else "",
        )
        self.requests.append(recorded)
        if request.headers.get("Authorization") != f"OAuth {self.api_key}":
            return recorded, self._error(recorded, 401, "Could not authenticate")
        if request.match_info["page_id"] != self.page_id:
            return recorded, self._error(
                recorded, 404, "The requested resource could not be found."
            )
        if request.method != "GET" and request.headers.get("Content-Type") != "application/json":
            return recorded, self._error(recorded, 415, "Content-Type must be application/json")
        queued = self._failures.get(request.method) or []
        if queued and queued[0].status != 0:
            failure = queued.pop(0)
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return recorded, self._error(recorded, failure.status, failure.error, headers)
        return recorded, None

    async def _answer(
        self, request: web.Request, recorded: Request, status: int, body: Any
    ) -> web.StreamResponse:
        queued = self._failures.get(request.method) or []
        if queued and queued[0].status == 0:
            queued.pop(0)
            # Done, but the answer never arrives: the connection closes under the client.
            assert request.transport is not None
            request.transport.close()
            recorded.status = 0
            return web.Response(status=204)
        recorded.status = status
        return web.json_response(body, status=status)

    @staticmethod
    def _error(
        recorded: Request, status: int, error: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        recorded.status = status
        return web.json_response({"error": error}, status=status, headers=headers)
