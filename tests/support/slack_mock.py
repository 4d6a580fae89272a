"""A mock of Slack's Web API, served over real HTTP on a loopback port."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.loopback import serve_on_loopback


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)  # what the mock answered (`ts`, view `id`)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: float | None


@dataclass
class MockSlack:
    """Records every Web API call; answers like Slack; can be told to fail the next calls."""

    calls: list[Call] = field(default_factory=list)
    url: str = ""
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _slow: dict[str, list[float]] = field(default_factory=dict)

    async def start(self) -> MockSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner, port = await serve_on_loopback(app)
        self.url = f"http://127.0.0.1:{port}/api/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: float | None = 1,
        times: int = 1,
    ) -> None:
        self._failures.setdefault(method, []).extend(
            _Failure(status, error, retry_after) for _ in range(times)
        )

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next calls are carried out, but answered only after `seconds` (a lost answer)."""
        self._slow.setdefault(method, []).extend([seconds] * times)

    def clear_failures(self) -> None:
        """Slack is healthy again: forget the failures still queued by `fail_next`."""
        self._failures.clear()

    def posts(self, channel: str | None = None) -> list[Call]:
        """chat.postMessage calls that succeeded, optionally to one channel."""
        return [
            c
            for c in self.calls
            if c.method == "chat.postMessage"
            and (channel is None or c.args.get("channel") == channel)
            and not c.args.get("_failed")
        ]

    def texts(self, method: str = "chat.postMessage") -> list[str]:
        return [
            c.args["text"] for c in self.calls if c.method == method and not c.args.get("_failed")
        ]

    uploads: dict[str, bytes] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    # What listeners sent to a `response_url` (ephemeral follow-ups, refusals), in order.
    responses: list[dict[str, Any]] = field(default_factory=list)

    def calls_of(self, method: str) -> list[Call]:
        """Successful calls of one Web API method, in order."""
        return [c for c in self.calls if c.method == method and not c.args.get("_failed")]

    def _messages(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """What Slack has in a channel (or a thread), newest first, with metadata if asked."""
        channel, thread = args.get("channel"), args.get("ts")
        found = []
        for call in self.posts(channel):
            if thread is None and call.args.get("thread_ts"):
                continue
            if thread is not None and thread not in (call.args.get("thread_ts"), call.result["ts"]):
                continue
            message: dict[str, Any] = {"ts": call.result["ts"], "text": call.args.get("text")}
            if args.get("include_all_metadata") and call.args.get("metadata"):
                message["metadata"] = call.args["metadata"]
            found.append(message)
        return list(reversed(found))

    # Socket Mode: the app's WebSocket connections, and what it sent back on them.
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's side of Socket Mode: `hello`, then envelopes the test sends; acks recorded."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for frame in socket:
            if frame.type == web.WSMsgType.TEXT:
                self.acks.append(json.loads(frame.data))
        return socket

    async def envelope(
        self, kind: str, payload: dict[str, Any], envelope_id: str, *, retry: int = 0
    ) -> None:
        """Send an envelope on the newest connection."""
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind == "slash_commands",
                "retry_attempt": retry,
                "retry_reason": "timeout" if retry else "",
            }
        )

    def response_url(self, token: str) -> str:
        """A `response_url` served by this mock (Slack gives one per command and action)."""
        return f"{self.url[:-4]}respond/{token}"

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"_token": request.match_info["token"], **body})
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        # Some SDK methods (files.completeUploadExternal) send their arguments as a query string.
        for key, value in request.query.items():
            args.setdefault(key, value)
        call = Call(method, args)
        self.calls.append(call)
        pending = self._failures.get(method)
        if pending:
            failure = pending.pop(0)
            call.args["_failed"] = True
            headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        call.result = self._answer(method, args)
        slow = self._slow.get(method)
        if slow:
            await asyncio.sleep(slow.pop(0))
        return web.json_response(call.result)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts},
            }
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.url[:-4]}upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = args.get("files")
            if isinstance(files, str):
                files = json.loads(files)
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **(args.get("view") or {})}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(str(args.get("usergroup")), [])}
        if method == "conversations.create":
            channel = f"CINC{next(self._ts)}"
            return {"ok": True, "channel": {"id": channel, "name": args.get("name")}}
        if method in ("conversations.history", "conversations.replies"):
            return {"ok": True, "messages": self._messages(args)}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://{self.url.split('//')[1].split('/')[0]}/socket"}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        return {"ok": True}
