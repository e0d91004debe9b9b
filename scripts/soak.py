"""Soak test: hours of ordinary faults in minutes, through the real Application over HTTP.

The real bot (real model, real index built from a copy of the knowledge folder)
runs in-process against the fake Bot API (``bot.testing.fake_bot_api``), which
fails calls at random: 5% 429 with ``retry_after``, 2% 500, 1% timeouts (held
until the client gives up, never processed), plus one outage where every call
gets 502 and an admin ``/reindex`` in the middle. Users (each in their own group
chat, mentioning the bot, so every reply is threaded under its question and
matched exactly) ask questions, follow-ups and ``/szukaj``, and press passage
buttons, at a Poisson rate; a user waits for a reply before acting again.

Reports replies lost (must be 0) and duplicated (must be 0), p50/p95 latency
from update to reply, RSS and open descriptors after warm-up and at the end
(growth must stay under 10%), the outbox counters, and the fault counts.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/soak.py [--minutes 20] [--rate 5]
        [--users 200] [--outage 30] [--docs 'summaries/*.md'] [--json]

Exit code 1 when a reply was lost or duplicated or RSS grew by 10% or more.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pydantic import SecretStr  # after the offline switches above

from bot.settings import Settings
from bot.telegram_app import build_application, running
from bot.testing.fake_bot_api import (
    BOT_USERNAME,
    TOKEN,
    Call,
    FakeBotApi,
    RandomFaults,
    callback_update,
    text_update,
)
from bot.testing.harness import standalone_questions
from index.metrics import percentile

ADMIN = 1
QUESTIONS_DIR = ROOT / "tests" / "data" / "dev_questions"
RSS_GROWTH_LIMIT = 0.10


def rss_mb() -> float:
    """Resident memory of this process now (not the peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def fd_kinds() -> dict[str, int]:
    """Open descriptors by kind (socket, pipe, anon_inode, file), to tell connections from files."""
    kinds: Counter[str] = Counter()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed while we looked
            continue
        kinds[target.split(":", 1)[0] if ":" in target else "file"] += 1
    return dict(kinds)


@dataclass
class Tally:
    """What the fake Bot API saw, kept small: counts per key, not the calls themselves."""

    threaded: Counter[tuple[int, int]] = field(default_factory=Counter)  # (chat, question id) → replies
    delivered_at: dict[tuple[int, int], float] = field(default_factory=dict)
    unthreaded: Counter[int] = field(default_factory=Counter)  # chat → replies not under a question
    callbacks: Counter[str] = field(default_factory=Counter)  # callback id → answers
    buttons: dict[int, list[str]] = field(default_factory=dict)  # chat → passage buttons of last answer
    failures: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, call: Call) -> None:
        self.calls[call.method] += 1
        failed = call.params.get("_failed")
        if failed is not None:
            self.failures[str(failed)] += 1
            return
        if call.method == "answerCallbackQuery" and call.params.get("_ok"):
            self.callbacks[str(call.params.get("callback_query_id"))] += 1
        if call.method != "sendMessage" or not call.params.get("_ok"):
            return
        chat_id = int(call.params["chat_id"])
        reply_to = (call.params.get("reply_parameters") or {}).get("message_id")
        if reply_to is not None:
            key = (chat_id, int(reply_to))
            self.threaded[key] += 1
            self.delivered_at.setdefault(key, time.perf_counter())
        else:
            self.unthreaded[chat_id] += 1
        markup = call.params.get("reply_markup") or {}
        passages = [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if button["callback_data"].startswith("p:")
        ]
        if passages:
            self.buttons[chat_id] = passages
        self.wake.set()


@dataclass
class Plan:
    """How long, how busy and how faulty the run is."""

    seconds: float
    rate: float
    users: int
    outage_at: float
    outage_seconds: float
    reindex_at: float
    warmup_seconds: float
    seed: int


async def soak(settings: Settings, plan: Plan, knowledge: Path) -> dict[str, Any]:
    """Run the bot under faulty traffic and return the measurements."""
    from bot.runtime import load_runtime

    rng = random.Random(plan.seed)
    questions = standalone_questions(QUESTIONS_DIR)
    runtime = await asyncio.to_thread(load_runtime, settings)
    tally = Tally()
    asked: dict[tuple[int, int], float] = {}  # (chat, question id) → when pushed
    pressed: Counter[int] = Counter()  # chat → passage presses
    callback_ids: list[str] = []
    busy: set[int] = set()
    events: dict[str, Any] = {}
    faults = RandomFaults(retry_after=1, hold=settings.telegram_timeout_seconds + 3, seed=plan.seed)

    async with FakeBotApi(keep_calls=False, on_call=tally) as api:
        bot_settings = settings.model_copy(
            update={
                "telegram_base_url": api.base_url,
                "telegram_bot_token": SecretStr(TOKEN),
                "questions_per_minute": 1000,
                "admin_ids": frozenset({ADMIN}),
            }
        )
        application = build_application(bot_settings, runtime_factory=lambda _: runtime)
        async with running(application, bot_settings, poll_timeout=5.0) as app:
            api.faults = faults
            started = time.perf_counter()

            async def act(user: int) -> None:
                chat_id = -(100_000 + user)
                busy.add(user)
                try:
                    roll = rng.random()
                    if roll < 0.1 and tally.buttons.get(chat_id):
                        data = rng.choice(tally.buttons[chat_id])
                        update = callback_update(data, 10_000 + user, chat_id=chat_id)
                        callback_ids.append(update["callback_query"]["id"])
                        before = tally.unthreaded[chat_id]
                        pressed[chat_id] += 1
                        await api.push(update)
                        await wait_until(lambda: tally.unthreaded[chat_id] > before, tally, 900)
                        return
                    question = rng.choice(questions)
                    if roll < 0.2:
                        text = f"/szukaj@{BOT_USERNAME} {question}"
                        update = text_update(text, 10_000 + user, chat_id, "supergroup")
                    elif roll < 0.3 and tally.buttons.get(chat_id):
                        update = text_update(
                            "a od kiedy?", 10_000 + user, chat_id, "supergroup", reply_to_bot=True
                        )
                    else:
                        update = text_update(
                            f"@{BOT_USERNAME} {question}", 10_000 + user, chat_id, "supergroup"
                        )
                    key = (chat_id, int(update["message"]["message_id"]))
                    asked[key] = time.perf_counter()
                    await api.push(update)
                    await wait_until(lambda: tally.threaded[key] > 0, tally, 900)
                finally:
                    busy.discard(user)

            tasks: set[asyncio.Task[None]] = set()
            samples: dict[str, Any] = {}
            series: list[tuple[int, int, int]] = []  # (second, RSS MB, descriptors)
            outage_done = reindex_done = False
            while (now := time.perf_counter() - started) < plan.seconds:
                if "warm" not in samples and now >= plan.warmup_seconds:
                    samples["warm"] = {"at_s": round(now, 1), "rss_mb": rss_mb(), "fds": open_fds()}
                if now >= len(series) * plan.seconds / 10:  # ten samples: does anything keep growing?
                    series.append((round(now), round(rss_mb()), open_fds()))
                if not outage_done and now >= plan.outage_at:
                    api.outage(plan.outage_seconds)
                    events["outage"] = {"at_s": round(now, 1), "seconds": plan.outage_seconds}
                    outage_done = True
                if not reindex_done and now >= plan.reindex_at:
                    tasks.add(asyncio.create_task(reindex(api, tally, knowledge, events, started)))
                    reindex_done = True
                await asyncio.sleep(rng.expovariate(plan.rate))
                idle = [u for u in range(plan.users) if u not in busy]
                if idle:
                    task = asyncio.create_task(act(rng.choice(idle)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            traffic_s = time.perf_counter() - started
            drain = time.perf_counter()
            if tasks:
                await asyncio.wait(tasks, timeout=bot_settings.delivery_deadline_seconds + 60)
            drain_s = time.perf_counter() - drain
            await asyncio.sleep(2.0)  # anything arriving now would be a duplicate
            samples["end"] = {
                "at_s": round(time.perf_counter() - started, 1),
                "rss_mb": rss_mb(),
                "fds": open_fds(),
                "kinds": fd_kinds(),
            }
            sender = app.bot_data.sender
            counters = dict(vars(sender.counters)) if sender is not None else {}
            dropped = app.bot_data.feedback_sink.dropped_writes if app.bot_data.feedback_sink else None
        api.faults = None

    latencies = [tally.delivered_at[key] - at for key, at in asked.items() if key in tally.delivered_at]
    lost = [key for key in asked if tally.threaded[key] == 0]
    duplicates = [key for key in asked if tally.threaded[key] > 1]
    passage_lost = sum(max(0, pressed[c] - tally.unthreaded[c]) for c in pressed)
    passage_dup = sum(max(0, tally.unthreaded[c] - pressed[c]) for c in tally.unthreaded if c < 0)
    warm = samples.get("warm") or samples["end"]
    growth = (samples["end"]["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"] if warm["rss_mb"] else 0.0
    return {
        "minutes": round(plan.seconds / 60, 1),
        "rate_per_s": plan.rate,
        "users": plan.users,
        "questions": len(asked),
        "answered": len(asked) - len(lost),
        "lost": len(lost),
        "duplicates": len(duplicates),
        "passage_presses": sum(pressed.values()),
        "passage_replies_lost": passage_lost,
        "passage_replies_duplicated": passage_dup,
        "button_answers": {
            "pressed": len(callback_ids),
            "answered_once": sum(1 for c in callback_ids if tally.callbacks[c] == 1),
            "duplicated": sum(1 for c in callback_ids if tally.callbacks[c] > 1),
        },
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p95_s": round(percentile(latencies, 95), 3),
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "rss_mb_after_warmup": round(warm["rss_mb"], 1),
        "rss_mb_end": round(samples["end"]["rss_mb"], 1),
        "rss_growth": round(growth, 4),
        "fds_after_warmup": warm["fds"],
        "fds_end": samples["end"]["fds"],
        "series_s_rss_fds": series,
        "fd_kinds_end": samples["end"]["kinds"],
        "traffic_s": round(traffic_s, 1),
        "drain_s": round(drain_s, 1),
        "delivery": counters,
        "store_writes_dropped": dropped,
        "injected_failures": dict(tally.failures),
        "api_calls": dict(tally.calls),
        "events": events,
    }


async def wait_until(condition: Any, tally: Tally, timeout: float) -> bool:
    """Wait until ``condition()`` holds (re-checked on every delivered message)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        tally.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.wake.wait(), min(left, 1.0))
    return True


async def reindex(
    api: FakeBotApi, tally: Tally, knowledge: Path, events: dict[str, Any], started: float
) -> None:
    """An admin changes a document and sends /reindex; waits for the summary."""
    target = sorted(knowledge.rglob("*.md"))[0]
    with target.open("a", encoding="utf-8") as doc:
        doc.write("\n\nUwaga dla pracowników: dokument uzupełniony podczas testu wytrzymałości.\n")
    at = time.perf_counter()
    before = tally.unthreaded[ADMIN]
    await api.push(text_update("/reindex", ADMIN))
    finished = await wait_until(lambda: tally.unthreaded[ADMIN] >= before + 2, tally, 900)
    events["reindex"] = {
        "at_s": round(at - started, 1),
        "finished": finished,
        "seconds": round(time.perf_counter() - at, 1),
    }


def prepare(work: Path, docs: str | None) -> tuple[Settings, Path, float]:
    """A copy of the knowledge folder (the run changes a file) and its index; build time."""
    from index.build import build_index
    from index.embedder import load_embedder
    from index.store import IndexStore

    defaults = Settings()
    source = defaults.knowledge_dir
    knowledge = work / "knowledge"
    if docs:
        for path in sorted(source.glob(docs)):
            target = knowledge / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    else:
        shutil.copytree(source, knowledge)
    settings = Settings(
        knowledge_dir=knowledge,
        index_dir=work / "index",
        data_dir=work / "data",
        embedding_model=str(Path(defaults.model_name_or_path).expanduser().resolve()),
        telegram_timeout_seconds=5.0,
    )
    started = time.perf_counter()
    embedder = load_embedder(settings.model_name_or_path)
    build_index(knowledge, IndexStore(settings.index_path), embedder, int(settings.max_file_mb * 1_000_000))
    return settings, knowledge, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the soak, print the report; exit 1 on a lost or duplicated reply."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5.0, help="actions per second (Poisson)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds of 502 for every call")
    parser.add_argument(
        "--docs", help="glob of knowledge files to index, e.g. 'summaries/*.md' (default: all)"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # The fake server's own log: a client that timed out hangs up on it, by design here.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    seconds = args.minutes * 60
    plan = Plan(
        seconds=seconds,
        rate=args.rate,
        users=args.users,
        outage_at=0.3 * seconds,
        outage_seconds=args.outage,
        reindex_at=0.5 * seconds,
        warmup_seconds=max(20.0, 0.1 * seconds),
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="pomocnik-soak-") as tmp:
        settings, knowledge, build_s = prepare(Path(tmp), args.docs)
        report = asyncio.run(soak(settings, plan, knowledge))
    report["index_build_s"] = round(build_s, 1)
    report["cpus"] = os.cpu_count()
    ok = report["lost"] == 0 and report["duplicates"] == 0 and report["rss_growth"] < RSS_GROWTH_LIMIT
    report["ok"] = ok
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(
            f"{report['questions']} questions in {report['minutes']} min at {plan.rate}/s "
            f"from {plan.users} users: lost {report['lost']}, duplicates {report['duplicates']}\n"
            f"latency p50 {report['latency_p50_s']} s, p95 {report['latency_p95_s']} s, "
            f"max {report['latency_max_s']} s\n"
            f"RSS {report['rss_mb_after_warmup']} → {report['rss_mb_end']} MB "
            f"({report['rss_growth']:+.1%}), fds {report['fds_after_warmup']} → {report['fds_end']}\n"
            f"passages: {report['passage_presses']} presses, lost {report['passage_replies_lost']}, "
            f"duplicated {report['passage_replies_duplicated']}; buttons {report['button_answers']}\n"
            f"delivery {report['delivery']}\nfailures injected {report['injected_failures']}\n"
            f"events {report['events']}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
