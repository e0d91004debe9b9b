"""Test doubles for the Telegram edge, shared by tests/ and the operator scripts.

``fake_bot_api`` is a fake Telegram Bot API server on 127.0.0.1 (with fault
injection: flood limits, 5xx, timeouts, outages, rejected HTML); ``harness``
holds settings pointing the bot at it and a tiny keyword runtime; ``html_check``
validates Telegram HTML. They live in the package, not in tests/, because
``scripts/load_test.py`` and ``scripts/soak.py`` drive the real Application with
them; nothing in the running bot imports this package. ``fake_bot_api`` needs
aiohttp (the ``test`` extra).
"""
