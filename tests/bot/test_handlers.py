"""Which messages are meant for the bot, and what question they hold."""

from __future__ import annotations

from telegram import Message

from bot.handlers import addressed_text
from bot.testing.fake_bot_api import BOT_ID, BOT_USERNAME, text_update


def message(text: str, kind: str = "supergroup", **kwargs) -> Message:
    return Message.de_json(
        text_update(text, 5, chat_id=-5 if kind != "private" else 5, kind=kind, **kwargs)["message"], None
    )


def test_private_messages_are_always_questions():
    assert addressed_text(message("zasiłek stały", "private"), BOT_USERNAME, BOT_ID) == "zasiłek stały"


def test_group_mention_is_stripped_wherever_it_stands():
    got = addressed_text(
        message(f"Czy 👍 @{BOT_USERNAME} wie, komu przysługuje zasiłek?"), BOT_USERNAME, BOT_ID
    )
    assert got == "Czy 👍 wie, komu przysługuje zasiłek?"
    shouted = text_update(f"@{BOT_USERNAME.upper()} ile?", 5, chat_id=-5, kind="group")["message"]
    shouted["entities"] = [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
    assert addressed_text(Message.de_json(shouted, None), BOT_USERNAME, BOT_ID).strip() == "ile?"


def test_group_ignores_other_mentions_and_plain_text_but_takes_replies_to_the_bot():
    assert addressed_text(message("@inny_bot zasiłek stały"), BOT_USERNAME, BOT_ID) is None
    assert addressed_text(message("zasiłek stały"), BOT_USERNAME, BOT_ID) is None
    assert (
        addressed_text(message("a dla rodziny?", reply_to_bot=True), BOT_USERNAME, BOT_ID) == "a dla rodziny?"
    )


def test_text_mention_of_the_bot_counts():
    data = text_update("Pomocnik ile wynosi kryterium?", 5, chat_id=-5, kind="group")["message"]
    data["entities"] = [
        {
            "type": "text_mention",
            "offset": 0,
            "length": 8,
            "user": {"id": BOT_ID, "is_bot": True, "first_name": "Pomocnik"},
        }
    ]
    assert (
        addressed_text(Message.de_json(data, None), BOT_USERNAME, BOT_ID).strip() == "ile wynosi kryterium?"
    )
