"""Teams input: activities at `POST /api/messages`, verified by the Teams SDK, into the dispatcher.

`@statusbot status`, `@statusbot incident …` (and the same without the mention in a personal
chat) go through the shared grammar; clicks on the bot's cards and submitted forms go through the
same dispatcher as Slack's buttons and modals. Replies are posted in the thread they came from.

The SDK checks each activity's token (issuer, audience, signing key, the `serviceurl` claim);
this module adds what keeps a bad request from costing more than a 401: the key set is fetched
off the event loop, tokens from other issuers are refused before the SDK would fetch their
keys, and a body that is not an activity gets 400, never 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import urlsplit

import jwt
from aiohttp import web
from microsoft_teams.apps.http.adapter import HttpRequest, HttpResponse

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.config import Config
from bot.settings import Settings
from bot.store import UNAVAILABLE
from handlers.commands.dispatcher import Caller, Dispatcher, Invocation, Reply
from handlers.teams.connector import TeamsBotAdapter
from handlers.teams.forms import FORM_ACTION, FormError, read_form, render_form
from handlers.teams.sdk import PUBLIC, ActivityContext, App, MessageActivity, with_overrides

log = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_JWKS_REFRESH = 240.0  # seconds; the SDK's cache keeps a key set for 300
HELP = "Try `@statusbot status` or `@statusbot incident help`."

Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class AiohttpAdapter:
    """Serves the SDK's activity route on the bot's own aiohttp server."""

    def __init__(self, web_app: web.Application, guard: Callable[[str], Awaitable[bool]]) -> None:
        self._web_app = web_app
        self._guard = guard

    def register_route(self, method: str, path: str, handler: Handler) -> None:
        async def route(request: web.Request) -> web.Response:
            authorization = request.headers.get("Authorization", "")
            if not await self._guard(authorization):
                return web.json_response({"error": "Unauthorized"}, status=401)
            try:
                body = json.loads(await request.read())
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                # Checked against the SDK with an empty activity: a bad token still gets 401.
                answer = await handler(
                    HttpRequest(body={}, headers={"authorization": authorization})
                )
                status = 401 if answer["status"] == 401 else 400
                return web.json_response({"error": "malformed activity"}, status=status)
            answer = await handler(
                HttpRequest(body=body, headers={k.lower(): v for k, v in request.headers.items()})
            )
            status = answer["status"]
            if status >= 500:
                # Our handlers catch their own errors: a 500 from the SDK is a body it could not
                # read as an activity.
                return web.json_response({"error": "malformed activity"}, status=400)
            content = answer.get("body")
            if content is None:
                return web.Response(status=status)
            return web.json_response(content, status=status)

        self._web_app.router.add_route(method, path, route)

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("the bot serves no static files for Teams")

    async def start(self, port: int) -> None:
        raise NotImplementedError("the bot's own server is already running")

    async def stop(self) -> None:
        return None


class TeamsInput:
    """The Teams SDK app, mounted on the bot's HTTP server, handing everything to the dispatcher."""

    def __init__(
        self,
        settings: Settings,
        config: Config,
        dispatcher: Dispatcher,
        bot: TeamsBotAdapter,
        web_app: web.Application,
        ssl_context: ssl.SSLContext,
    ) -> None:
        assert settings.teams_app_id is not None
        self._config = config
        self._dispatcher = dispatcher
        self._bot = bot
        self._ssl_context = ssl_context
        login = urlsplit(settings.teams_login_url.rstrip("/"))
        cloud = with_overrides(
            PUBLIC,
            openid_metadata_url=settings.teams_openid_metadata_url,
            login_endpoint=f"{login.scheme}://{login.netloc}",
            login_tenant=login.path.strip("/") or "botframework.com",
        )

        async def app_token(scope: str | list[str], tenant_id: str | None) -> str:
            return await bot.token()

        self.app = App(
            client_id=settings.teams_app_id,
            token=app_token,
            cloud=cloud,
            service_url=settings.teams_service_url,
            http_server_adapter=AiohttpAdapter(web_app, self._plausible),
            dangerously_allow_unauthenticated_requests=False,
        )
        self.app.on_message(self._on_message)
        web_app.on_startup.append(self._initialize)

    async def refresh_keys(self) -> None:
        """Keep the signing keys fresh from a thread: the SDK fetches them synchronously."""
        while True:
            try:
                await asyncio.to_thread(self._keys().get_jwk_set, True)
            except Exception as exc:
                log.warning("cannot fetch the Bot Framework signing keys (%s); retrying", exc)
            await asyncio.sleep(_JWKS_REFRESH)

    async def _initialize(self, _: web.Application) -> None:
        await self.app.initialize()
        self._keys().ssl_context = self._ssl_context
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the SDK resets it

    def _keys(self) -> jwt.PyJWKClient:
        server = cast(Any, self.app.server)
        return cast(jwt.PyJWKClient, server._token_validator._service_validator._jwks_client)

    async def _plausible(self, authorization: str) -> bool:
        """A cheap first look at the token, so a forged one costs the bot no key fetch on its
        event loop: it must be a Bot Framework token signed with a key we (can) know."""
        raw = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not raw:
            return False
        try:
            header = jwt.get_unverified_header(raw)
            claims = jwt.decode(raw, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        if claims.get("iss") != ISSUER or not isinstance(header.get("kid"), str):
            return False
        try:
            await asyncio.to_thread(self._keys().get_signing_key, header["kid"])
        except Exception:
            return False
        return True

    async def _on_message(self, ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        conversation = activity.conversation.id
        try:
            with contextlib.suppress(*UNAVAILABLE):  # remembered next time, then
                await self._bot.service_url.remember(activity.service_url or "")
            channel, _, thread = conversation.partition(";messageid=")
            user = activity.from_.aad_object_id or activity.from_.id
            caller = Caller("teams", user, channel=channel, thread=thread or None)
            value = activity.value
            if isinstance(value, dict) and value.get("action"):
                reply = await self._clicked(caller, value, activity.id)
            else:
                reply = await self._typed(caller, activity.text or "", activity.id)
            if reply is not None:
                await self._answer(conversation, reply, activity.id)
        except DeliveryError as exc:
            log.warning("could not answer Teams activity %s: %s", activity.id, exc.reason)
        except Exception:
            # Teams would retry a 500 and the command would run again: log it, answer 200.
            log.exception("Teams activity %s could not be handled", activity.id)

    async def _typed(self, caller: Caller, text: str, activity_id: str) -> Reply | None:
        words = _MENTION.sub(" ", text).replace("&nbsp;", " ").split(maxsplit=1)
        name = words[0].lower().lstrip("/") if words else ""
        if name not in ("status", "incident"):
            return Reply(Message(text=f"Not a command. {HELP}"))
        invocation = Invocation(
            platform="teams",
            user=caller.user,
            command="status" if name == "status" else "incident",
            text=words[1] if len(words) > 1 else "",
            channel=caller.channel,
            thread=caller.thread,
            delivery_id=activity_id,
        )
        return await self._dispatcher.handle(invocation)

    async def _clicked(
        self, caller: Caller, value: dict[str, Any], activity_id: str
    ) -> Reply | None:
        action = str(value.get("action"))
        if action == FORM_ACTION:
            try:
                command = read_form(self._config, value)
            except FormError as exc:
                return Reply(Message(text=str(exc)), problem=str(exc))
            return await self._dispatcher.run_once(caller, command, activity_id)
        return await self._dispatcher.press(
            caller, action, str(value.get("value", "")), delivery_id=activity_id
        )

    async def _answer(self, conversation: str, reply: Reply, activity_id: str) -> None:
        """In the conversation (and thread) the activity came from, as a reply to it."""
        answering = {"replyToId": activity_id}
        if reply.form is not None:
            card = render_form(self._config, reply.form)
            await self._bot.send_card(conversation, card, reply.message.text, extra=answering)
        elif not reply.quiet:
            await self._bot.send(conversation, reply.message, extra=answering)
