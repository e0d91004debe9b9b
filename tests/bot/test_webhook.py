"""Webhook mode: PTB's own web server receives updates signed with the secret token."""

from __future__ import annotations

import socket

import aiohttp

from bot.telegram_app import build_application, running, webhook_options
from bot.testing.fake_bot_api import text_update
from bot.testing.harness import FakeRuntime, KeywordSearcher, bot_settings
from bot.testing.html_check import visible_text

SECRET = "s3cret_Token-42"
PUBLIC_URL = "https://pomocnik.example.org/telegram/hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_receives_signed_updates_and_rejects_a_wrong_secret(api, tmp_path):
    port = free_port()
    settings = bot_settings(
        api.base_url,
        tmp_path,
        webhook_url=PUBLIC_URL,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret=SECRET,
    )
    application = build_application(settings, runtime_factory=lambda _: FakeRuntime(KeywordSearcher()))
    async with running(application, settings):
        assert api.webhook is not None
        assert api.webhook["url"] == PUBLIC_URL and api.webhook["secret_token"] == SECRET
        local = f"http://127.0.0.1:{port}/telegram/hook"
        async with aiohttp.ClientSession() as session:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                forged = {"update_id": 1, **text_update("Komu przysługuje zasiłek stały?", 401)}
                async with session.post(local, json=forged, headers=headers) as response:
                    assert response.status == 403
            signed = {"update_id": 2, **text_update("Komu przysługuje zasiłek stały?", 402)}
            async with session.post(
                local, json=signed, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as response:
                assert response.status == 200
        [reply] = await api.wait_messages(402)
        assert "Zasiłek stały" in visible_text(reply.params["text"])
        assert api.calls_of("sendMessage", 401) == []
        assert api.calls_of("getUpdates") == []  # no polling in webhook mode


def test_webhook_options_follow_the_settings(tmp_path):
    assert webhook_options(bot_settings("http://x/bot", tmp_path)) is None
    options = webhook_options(
        bot_settings("http://x/bot", tmp_path, webhook_url=PUBLIC_URL, webhook_port=8443)
    )
    assert options is not None
    assert (options.url_path, options.port, options.listen) == ("telegram/hook", 8443, "0.0.0.0")
    # Without a configured secret, a random one still protects the endpoint.
    assert len(options.secret_token) >= 32
