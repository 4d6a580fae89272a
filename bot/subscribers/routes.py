"""HTTP routes of email subscriptions: `POST /subscribe` (the page's form), `GET
/subscribe/confirm?token=…`, and `GET` or one-click `POST /unsubscribe?token=…` (RFC 8058).

Every answer is a small page in the visitor's language; bad input gets a 4xx with one line
saying what is wrong, a store outage 503, never a traceback. The answer to the form is the same
whether or not the address was subscribed already.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web

from bot.store import UNAVAILABLE
from bot.subscribers.addresses import AddressError, normalize_address
from bot.subscribers.pages import answer_page
from bot.subscribers.service import Subscriptions
from bot.subscribers.store import CONFIRM_WITHIN
from bot.subscribers.texts import MailWords

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 2048  # an address and a language, with room to spare
# Per connecting address: enough for a person who mistyped, too few to flood an inbox.
SUBSCRIBE_LIMIT = 5
SUBSCRIBE_WINDOW_S = 60
_FORM = "application/x-www-form-urlencoded"
_ONE_CLICK_TYPES = (_FORM, "multipart/form-data")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LANGUAGE = web.RequestKey("subscriber_language", str)


def add_subscriber_routes(
    app: web.Application, subscriptions: Subscriptions, public_url: str
) -> None:
    """The routes exist only while email subscriptions are on (SMTP_URL set): otherwise 404."""
    if not subscriptions.by_email:
        return
    routes = _Routes(subscriptions, public_url)
    app.router.add_post("/subscribe", routes.guarded(routes.subscribe))
    app.router.add_get("/subscribe/confirm", routes.guarded(routes.confirm))
    app.router.add_get("/unsubscribe", routes.guarded(routes.unsubscribe))
    app.router.add_post("/unsubscribe", routes.guarded(routes.unsubscribe))


class _BadRequest(Exception):
    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


class _Routes:
    def __init__(self, subscriptions: Subscriptions, public_url: str) -> None:
        self._subscriptions = subscriptions
        self._public_url = public_url

    def guarded(self, handler: Handler) -> Handler:
        """Bad input and a store outage answered as pages, in the visitor's language."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except _BadRequest as exc:
                language = self._language_of(request)
                return self._page(language, "error_title", exc.key, status=exc.status)
            except UNAVAILABLE as exc:
                log.warning("subscriptions: the store is unavailable (%s)", exc)
                language = self._language_of(request)
                return self._page(
                    language, "error_title", "unavailable", status=503, retry_after="10"
                )

        return guarded

    def _language_of(self, request: web.Request) -> str:
        """The form's language once it is read, else the link's (`?lang=`)."""
        wanted = request.get(_LANGUAGE)
        return wanted or self._subscriptions.language(request.query.get("lang"))

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        fields = await _form(request)
        language = self._subscriptions.language(fields.get("lang") or request.query.get("lang"))
        request[_LANGUAGE] = language
        email = fields.get("email", "").strip()
        if not email:
            return self._page(language, "error_title", "missing_email", status=400)
        try:
            normalize_address(email)
        except AddressError as exc:
            words = MailWords(language)
            reason = words("bad_address", reason=words.reason(str(exc)))
            return self._page(language, "error_title", text=reason, status=400)
        client = request.remote or "unknown"
        if not await self._subscriptions.within_rate(client, SUBSCRIBE_LIMIT, SUBSCRIBE_WINDOW_S):
            return self._page(
                language, "error_title", "too_many", status=429, retry_after=str(SUBSCRIBE_WINDOW_S)
            )
        await self._subscriptions.subscribe(email, language)
        hours = str(int(CONFIRM_WITHIN.total_seconds() // 3600))
        text = MailWords(language)("subscribed", hours=hours)
        return self._page(language, "subscribed_title", text=text)

    async def confirm(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "").strip()
        if not token:
            raise _BadRequest(400, "missing_token")
        result = await self._subscriptions.confirm(token)
        language = self._subscriptions.language(result.language or request.query.get("lang"))
        if result.outcome == "confirmed":
            return self._page(language, "confirmed_title", "confirmed")
        if result.outcome == "already":
            return self._page(language, "confirmed_title", "already_confirmed")
        return self._page(language, "expired_title", "expired", status=410)

    async def unsubscribe(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "").strip()
        if not token and request.method == "POST":
            token = (await _form(request, _ONE_CLICK_TYPES)).get("token", "").strip()
        if not token:
            raise _BadRequest(400, "missing_token")
        # An unknown token was most likely used already: unsubscribing twice is no error.
        found = await self._subscriptions.unsubscribe(token)
        language = self._subscriptions.language(found or request.query.get("lang"))
        return self._page(language, "unsubscribed_title", "unsubscribed")

    def _page(
        self,
        language: str,
        title_key: str,
        key: str | None = None,
        *,
        text: str | None = None,
        status: int = 200,
        retry_after: str | None = None,
    ) -> web.Response:
        line = text if text is not None else MailWords(language)(key or "")
        headers = {"Retry-After": retry_after} if retry_after else None
        return answer_page(
            language, title_key, line, self._public_url, status=status, headers=headers
        )


async def _form(request: web.Request, accepted: tuple[str, ...] = (_FORM,)) -> dict[str, str]:
    """The form's fields (the first value of each), read within MAX_FORM_BYTES."""
    if request.content_type not in accepted:
        raise _BadRequest(415, "not_a_form")
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise _BadRequest(413, "too_large")
    body = bytearray()
    while chunk := await request.content.read(MAX_FORM_BYTES + 1 - len(body)):
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise _BadRequest(413, "too_large")
    if request.content_type != _FORM:
        return {}  # a one-click POST in multipart form: its only field says nothing we need
    try:
        parsed = parse_qs(bytes(body).decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise _BadRequest(400, "not_a_form") from None
    return {name: values[0] for name, values in parsed.items() if values}
