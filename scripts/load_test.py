"""Load test: many users asking at once, through the real Application over HTTP.

Starts the fake Bot API server (bot/testing/fake_bot_api.py) and the real bot
in-process with the real model and index, then drives ``--users`` users who each
ask ``--questions`` questions one after another, all users at the same time. Each
user writes in their own group chat and mentions the bot, so every reply quotes
its question and is matched exactly. Reports replies lost (must be 0), p50/p95
latency from update to first reply message, throughput and peak RSS.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/load_test.py [--quick] [--json]
        [--users 50] [--questions 4] [--index-dir DIR]

Without a built index at the configured (or given) path, one is built there from
the knowledge folder first (into a temporary folder when no --index-dir is given);
that time is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pydantic import SecretStr

from bot.settings import Settings
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi, text_update
from bot.testing.harness import standalone_questions

QUESTIONS_DIR = ROOT / "tests" / "data" / "dev_questions"


def ensure_index(settings: Settings, work: Path, index_dir: Path | None) -> tuple[Settings, float]:
    """Settings whose index exists, building one if needed; and the build time."""
    from index.build import build_index
    from index.embedder import load_embedder
    from index.store import IndexStore

    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    if IndexStore(settings.index_path).current_version() is not None:
        return settings, 0.0
    started = time.perf_counter()
    target = index_dir or work / "index"
    embedder = load_embedder(settings.model_name_or_path)
    build_index(settings.knowledge_dir, IndexStore(target), embedder, int(settings.max_file_mb * 1_000_000))
    return settings.model_copy(update={"index_dir": target}), time.perf_counter() - started


async def drive(settings: Settings, users: int, questions: int, timeout: float) -> dict[str, object]:
    """Run the bot against the fake server and return the measurements."""
    from bot.runtime import load_runtime

    pool = standalone_questions(QUESTIONS_DIR)
    started = time.perf_counter()
    runtime = await asyncio.to_thread(load_runtime, settings)
    load_seconds = time.perf_counter() - started

    latencies: list[float] = []
    lost: list[tuple[int, int]] = []
    async with FakeBotApi() as api:
        bot_settings = settings.model_copy(
            update={
                "telegram_base_url": api.base_url,
                "telegram_bot_token": SecretStr(TOKEN),
                "questions_per_minute": max(questions, settings.questions_per_minute),
            }
        )
        application = build_application(bot_settings, runtime_factory=lambda _: runtime)
        async with running(application, bot_settings):

            async def user(u: int) -> None:
                chat_id = -(1_000 + u)
                for j in range(questions):
                    question = pool[(u * questions + j) % len(pool)]
                    update = text_update(f"@{BOT_USERNAME} {question}", 10_000 + u, chat_id, "supergroup")
                    message_id = update["message"]["message_id"]
                    sent = time.perf_counter()
                    await api.push(update)
                    try:
                        await api.wait_for(
                            lambda c: bool(
                                c.method == "sendMessage"
                                and c.params.get("_ok")
                                and c.params.get("chat_id") == chat_id
                                and (c.params.get("reply_parameters") or {}).get("message_id") == message_id  # noqa: B023  # awaited within this iteration
                            ),
                            timeout=timeout,
                        )
                    except TimeoutError:
                        lost.append((u, j))
                        continue
                    latencies.append(time.perf_counter() - sent)

            wall = time.perf_counter()
            await asyncio.gather(*(user(u) for u in range(users)))
            wall = time.perf_counter() - wall
        calls = {m: len(api.calls_of(m)) for m in ("sendMessage", "sendChatAction", "answerCallbackQuery")}

    latencies.sort()
    return {
        "users": users,
        "questions_per_user": questions,
        "questions": users * questions,
        "replies": len(latencies),
        "lost": len(lost),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(latencies[max(0, int(0.95 * len(latencies)) - 1)], 3) if latencies else None,
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "wall_s": round(wall, 2),
        "throughput_qps": round(len(latencies) / wall, 2) if wall else None,
        "runtime_load_s": round(load_seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpus": os.cpu_count(),
        "api_calls": calls,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the load test, print the report; exit 1 if a reply was lost."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=4, help="questions per user")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: from settings)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one reply")
    parser.add_argument("--quick", action="store_true", help="5 users × 2 questions")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    users, questions = (5, 2) if args.quick else (args.users, args.questions)

    with tempfile.TemporaryDirectory(prefix="pomocnik-load-") as tmp:
        work = Path(tmp)
        settings = Settings(db=work / "feedback.sqlite3")
        settings, build_seconds = ensure_index(settings, work, args.index_dir)
        report = asyncio.run(drive(settings, users, questions, args.timeout))
    report["index_build_s"] = round(build_seconds, 2)

    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(
            f"{report['questions']} questions ({users} users × {questions}), lost {report['lost']}\n"
            f"latency p50 {report['latency_p50_s']} s, p95 {report['latency_p95_s']} s, "
            f"max {report['latency_max_s']} s\n"
            f"wall {report['wall_s']} s, {report['throughput_qps']} answers/s on {report['cpus']} CPUs\n"
            f"peak RSS {report['peak_rss_mb']} MB; runtime load {report['runtime_load_s']} s, "
            f"index build {report['index_build_s']} s\n"
            f"API calls {report['api_calls']}"
        )
    return 1 if report["lost"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
