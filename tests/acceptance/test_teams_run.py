"""`statusbot run` for a Teams-only organisation, configured from the environment as the README
says: an outage reaches the Teams channel and a webhook, and `@statusbot status` is answered."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.builders import TEMPLATES
from tests.support.pki import Pki
from tests.support.process import BotProcess, bot_environment, wait_for
from tests.support.service import Service
from tests.support.teams_app import ALERTS, TENANT, WAR_ROOM
from tests.support.teams_mock import APP_ID, APP_PASSWORD, MockMicrosoft


async def test_a_teams_only_install_alerts_and_answers(tmp_path: Path, service: Service) -> None:
    mock = MockMicrosoft(Pki(tmp_path)).start()
    config = tmp_path / "statusbot.yaml"
    config.write_text(f"""
languages: [en]
components: [{{id: web, name: {{en: "online account services"}}}}]
checks:
  - {{id: web-home, component: web, type: http, url: "http://127.0.0.1:{service.port}/health",
     interval: 1s, timeout: 1s, failure_threshold: 2, success_threshold: 2}}
channels:
  alerts: {{teams: "{mock.webhook("alerts")}", teams_channel: "{ALERTS}"}}
statements: {{templates: {TEMPLATES}}}
""")
    env = bot_environment(
        TEAMS_APP_ID=APP_ID,
        TEAMS_APP_PASSWORD=APP_PASSWORD,
        TEAMS_OPENID_METADATA_URL=mock.openid_metadata_url,
        TEAMS_LOGIN_URL=mock.login_url,
        TEAMS_SERVICE_URL=mock.service_url,
        # The corporate-CA variable `requests` knows; the bot honours it for everything.
        REQUESTS_CA_BUNDLE=str(mock.pki.ca_file),
    )
    bot = await BotProcess(config, env, tmp_path).start()
    try:
        conversation = f"{WAR_ROOM};messageid=1700000000000"
        activity = {
            "type": "message",
            "id": "1700000000777",
            "serviceUrl": mock.service_url,
            "channelId": "msteams",
            "from": {"id": "29:someone", "aadObjectId": "aad-someone"},
            "conversation": {"id": conversation, "conversationType": "channel", "tenantId": TENANT},
            "recipient": {"id": f"28:{APP_ID}", "name": "statusbot"},
            "text": "<at>statusbot</at> status",
        }
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{bot.url}/api/messages",
                json=activity,
                headers={"Authorization": f"Bearer {mock.sign()}"},
            )
            assert answer.status_code == 200
            forged = await http.post(f"{bot.url}/api/messages", json=activity)
            assert forged.status_code == 401
        await wait_for(lambda: mock.activities(conversation), what="the answer to status")
        assert mock.summary(mock.activities(conversation)[0]).startswith("Status:")

        service.status = 503
        await wait_for(lambda: mock.activities(ALERTS), what="the alert in the Teams channel")
        await wait_for(lambda: mock.of("webhook"), what="the alert to the webhook")
        assert mock.summary(mock.activities(ALERTS)[0]).startswith(
            "Major outage: online account services (web-home: HTTP 503"
        )
    finally:
        code = await bot.stop()
        mock.stop()
    assert code == 0
    assert "Traceback" not in "\n".join(bot.output)
