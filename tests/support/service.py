"""A health endpoint on loopback that a test can break and repair."""

from __future__ import annotations

from aiohttp import web


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
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
