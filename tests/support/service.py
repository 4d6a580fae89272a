"""A health endpoint on loopback that a test can break and repair."""

from __future__ import annotations

from aiohttp import web

from tests.support.loopback import serve_on_loopback


class Service:
    """A health endpoint we can break and repair."""

    def __init__(self) -> None:
        self.status = 200
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> Service:
        async def health(_: web.Request) -> web.Response:
            return web.json_response(
                {"status": "UP" if self.status == 200 else "DOWN"}, status=self.status
            )

        app = web.Application()
        app.router.add_get("/health", health)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
