"""Benchmark kyr-bot: updates/s, per-update latency, peak RSS and start-up time.

Usage::

    .venv/bin/python bench/run.py [--users 500] [--updates 20000] [--mode both|inprocess|http]
                                  [--content DIR] [--profile] [--per-action]
                                  [--gc-threshold N] [--gc-freeze]   # what-if GC settings

``inprocess``: the real dispatcher and store built by ``BotService.create`` (SQLite in a temp
folder), with a Bot whose session answers every Bot API call locally (no network). Simulated
users walk the real tree through the buttons the bot last sent them; each user's updates are
sequential, users run concurrently. Three phases per target: *sequential* (one user, no pause:
processing time of one update with nothing else running), *saturated* (``--users`` users, no
pause: maximum updates/s; latency includes waiting behind the other users' updates) and *paced*
(``--users`` users each pressing about once a second, the most Telegram lets one chat receive:
latency under a realistic load). The same harness then drives a bare aiogram dispatcher.

``http``: ``kyr-bot run`` as its own process, long-polling ``tests/fake_telegram`` on 127.0.0.1
(served from this process), with ``--http-users`` users pressing at once; then the bare bot of
``bench/bare_bot.py`` the same way. Latency is from ``queue_update`` to the bot's reply
reaching the fake server. The peak RSS target is read from the ``kyr-bot run`` process.

Each saturated phase stops starting updates after ``--max-seconds`` (10), each paced phase after
``--paced-seconds`` (6), so the default (both modes) takes about a minute. Exit code 1 if the
bot logged an error.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import json
import logging
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# As in the deployed bot, the bot package comes before aiogram, which then builds its types on
# first use (bot/telegram/lazy_aiogram.py). The bare baseline shares that aiogram in this process.
import bot.telegram.lazy_aiogram as _lazy  # noqa: F401  # isort: skip
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update

from bench.bare_bot import bare_dispatcher
from bench.gen_tree import generate_tree
from bot.app import build_engine
from bot.content.problems import ContentError
from bot.settings import Settings
from bot.telegram.delivery import RetryMiddleware
from bot.telegram.runner import BotService, register_commands

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TOKEN = "123456:BENCH"
BOT_USER: dict[str, Any] = {"id": 123456, "is_bot": True, "first_name": "KyR Bench",
                            "username": "kyr_bench_bot"}
LANGUAGE_CODES = ("en", "es", "fr", "es-MX", "pt-BR")
SEARCH_WORDS = ("judge", "lawyer", "asylum", "court date", "abogado", "juez", "asilo", "avocat",
                "juge", "afraid of the country", "help", "detained relative", "xyzzy")
PACED_THINK = 1.0  # seconds between one user's updates in the paced phase (Telegram: ~1 msg/s/chat)
FALLBACK_NODES = 60
UNBOUNDED = 10**9
TARGET_RATE, TARGET_RATIO, TARGET_P99_MS, TARGET_RSS_MB = 1000.0, 0.5, 20.0, 120.0
_update_ids = itertools.count(1)
RSS_IMPORTS = 0.0  # set in main()


# ----------------------------------------------------------------------------- measurements

@dataclass
class Stats:
    """Updates handled in one phase, their wall time and per-update latencies (seconds)."""

    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    by_action: dict[str, list[float]] = field(default_factory=dict)
    cpu: float = 0.0  # process CPU seconds (all threads) during the phase
    gc_count: int = 0
    gc_seconds: float = 0.0
    gc_max: float = 0.0

    @property
    def updates(self) -> int:
        """How many updates were handled."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Updates per second over the phase's wall time."""
        return self.updates / self.seconds if self.seconds else 0.0

    def ms(self, q: float, action: str | None = None) -> float:
        """The ``q`` quantile (0..1) of latency, in milliseconds (of one action kind if given)."""
        values = self.latencies if action is None else self.by_action.get(action, [])
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class GcMeter:
    """Counts the cyclic garbage collector's pauses (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.max = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.seconds += pause
        self.max = max(self.max, pause)


GC = GcMeter()
gc.callbacks.append(GC)


class ErrorCounter(logging.Handler):
    """Counts ERROR log records (the bot logs every failed update at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()


ERRORS = ErrorCounter()


def configure_logging(level: str) -> None:
    """Log like production (one INFO line per update) but into /dev/null, and count errors."""
    stream = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(level=level, stream=stream,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger().addHandler(ERRORS)


# ----------------------------------------------------------------------------- local Bot API

@dataclass
class ChatView:
    """What one chat looks like to its user: the newest message with buttons."""

    next_id: int = 1
    keyboard: dict[str, Any] | None = None
    buttons: list[str] = field(default_factory=list)

    def new_id(self) -> int:
        """Allocate a message id (shared by the bot's and the user's messages)."""
        self.next_id += 1
        return self.next_id - 1


class LocalSession(BaseSession):
    """A Bot API session answered in memory.

    It pays what a real session pays besides the network: serialising the method's fields
    (``prepare_value``, as ``AiohttpSession.build_form_data`` does), then decoding a JSON answer
    into ``Response[method.__returning__]``. It remembers each chat's newest keyboard.
    """

    def __init__(self) -> None:
        super().__init__()
        self.chats: dict[int, ChatView] = {}
        self.calls: Counter[str] = Counter()

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        files: dict[str, Any] = {}
        data: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                data[key] = prepared
        for upload in files.values():
            async for _chunk in upload.read(bot):
                pass
        await asyncio.sleep(0)  # a real request suspends here: let other updates run
        result = self._answer(method.__api_method__, data)
        content = self.json_dumps({"ok": True, "result": result})
        return cast(TelegramType, self.check_response(bot, method, 200, content).result)

    def _answer(self, api_method: str, data: dict[str, Any]) -> Any:
        self.calls[api_method] += 1
        if api_method == "getMe":
            return BOT_USER
        if api_method not in ("sendMessage", "editMessageText", "sendDocument"):
            return True
        chat_id = int(data["chat_id"])
        view = self.chats.setdefault(chat_id, ChatView())
        now = int(time.time())
        edit = api_method == "editMessageText"
        message: dict[str, Any] = {
            "message_id": int(data["message_id"]) if edit else view.new_id(), "date": now,
            "chat": {"id": chat_id, "type": "private", "first_name": "User"}, "from": BOT_USER,
        }
        if api_method == "sendDocument":
            message["document"] = {"file_id": f"doc{now}", "file_unique_id": f"u{now}",
                                   "file_name": "summary.html"}
            if data.get("caption"):
                message["caption"] = data["caption"]
        else:
            message["text"] = data["text"]
        if edit:
            message["edit_date"] = now
        markup = json.loads(data["reply_markup"]) if "reply_markup" in data else None
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
            view.keyboard = message
            view.buttons = [b["callback_data"] for row in markup["inline_keyboard"] for b in row
                            if "callback_data" in b]
        return message

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536,
                             raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None


def local_bot(session: LocalSession) -> Bot:
    """A Bot like ``bot.telegram.runner.create_bot`` makes (HTML, no previews, retries) on ``session``."""
    session.middleware(RetryMiddleware())
    return Bot(TOKEN, session=session, default=DefaultBotProperties(
        parse_mode=ParseMode.HTML, link_preview_is_disabled=True))


# ----------------------------------------------------------------------------- simulated users

@dataclass
class SimUser:
    """One simulated Telegram user (the chat id is also the user id)."""

    chat_id: int
    lang: str
    rng: random.Random
    steps: int = 0


def next_action(user: SimUser, buttons: list[str]) -> tuple[str, str]:
    """("text", text) or ("press", callback_data): mostly buttons, sometimes commands or words."""
    rng = user.rng
    if user.steps == 0 or not buttons:
        return "text", "/start"
    r = rng.random()
    if r < 0.04:
        return "text", rng.choice(SEARCH_WORDS)
    if r < 0.06:
        return "text", "/lawyer"
    if r < 0.07:
        return "text", "/start"
    languages = [b for b in buttons if b.startswith("1:l:")]
    if languages:
        return "press", rng.choice(languages)
    if r < 0.10 and "1:L" in buttons:
        return "press", "1:L"
    if r < 0.20 and "1:b" in buttons:
        return "press", "1:b"
    choices = [b for b in buttons if b.startswith("1:g:")]
    if choices and r < 0.97:
        return "press", rng.choice(choices)
    return "press", rng.choice(buttons)


def action_label(kind: str, payload: str) -> str:
    """A short name for what the user did, for per-action latency."""
    if kind == "text":
        return payload.split()[0] if payload.startswith("/") else "search"
    names = {"1:b": "back", "1:L": "language menu", "1:h": "home", "1:w": "sheet button",
             "1:fa": "ask forget", "1:f": "forget", "1:s": "show"}
    if payload.startswith("1:l:"):
        return "set language"
    return "choice" if payload.startswith("1:g:") else names.get(payload, "other button")


def make_users(count: int, first_chat: int, seed: int) -> list[SimUser]:
    """``count`` users with chat ids from ``first_chat`` and mixed Telegram languages."""
    return [SimUser(first_chat + i, LANGUAGE_CODES[i % len(LANGUAGE_CODES)], random.Random(seed + i))
            for i in range(count)]


class Driver(Protocol):
    """Performs one update for a user; returns what the user did and the latency in seconds."""

    async def step(self, user: SimUser) -> tuple[str, float]: ...


class LocalDriver:
    """Feeds updates straight into a dispatcher, timing ``Update`` parsing + ``feed_update``."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, session: LocalSession) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.session = session

    def _user(self, user: SimUser) -> dict[str, Any]:
        return {"id": user.chat_id, "is_bot": False, "first_name": "User", "language_code": user.lang}

    def update(self, user: SimUser) -> tuple[str, dict[str, Any]]:
        """What the user does next and the raw update for it, as Telegram would deliver it."""
        view = self.session.chats.setdefault(user.chat_id, ChatView())
        kind, payload = next_action(user, view.buttons)
        if kind == "press" and view.keyboard is not None:
            query = {"id": f"{user.chat_id}-{user.steps}", "from": self._user(user),
                     "message": view.keyboard, "chat_instance": str(user.chat_id), "data": payload}
            return action_label(kind, payload), {"update_id": next(_update_ids), "callback_query": query}
        text = payload if kind == "text" else "/start"
        message: dict[str, Any] = {
            "message_id": view.new_id(), "date": int(time.time()), "from": self._user(user),
            "chat": {"id": user.chat_id, "type": "private", "first_name": "User"}, "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return action_label("text", text), {"update_id": next(_update_ids), "message": message}

    async def step(self, user: SimUser) -> tuple[str, float]:
        action, raw = self.update(user)
        started = time.perf_counter()
        await self.dispatcher.feed_update(self.bot, Update.model_validate(raw, context={"bot": self.bot}))
        return action, time.perf_counter() - started


async def run_users(name: str, driver: Driver, users: list[SimUser], steps: int, think: float,
                    max_seconds: float) -> Stats:
    """Every user does up to ``steps`` updates in order, pausing about ``think`` s between them
    (none when 0); users run concurrently; no update starts after ``max_seconds``."""
    stats = Stats(name)
    errors_before, cpu_before = ERRORS.count, time.process_time()
    gc_before = (GC.count, GC.seconds)
    GC.max = 0.0
    deadline = time.perf_counter() + max_seconds

    async def walk(user: SimUser) -> None:
        pause = user.rng.uniform(0, think) if think else 0.0  # spread the first arrivals
        for _ in range(steps):
            if pause:
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            if time.perf_counter() > deadline:
                return
            action, latency = await driver.step(user)
            stats.latencies.append(latency)
            stats.by_action.setdefault(action, []).append(latency)
            user.steps += 1
            pause = user.rng.expovariate(1 / think) if think else 0.0

    started = time.perf_counter()
    await asyncio.gather(*(walk(u) for u in users))
    stats.seconds = time.perf_counter() - started
    stats.errors = ERRORS.count - errors_before
    stats.cpu = time.process_time() - cpu_before
    stats.gc_count, stats.gc_seconds, stats.gc_max = (GC.count - gc_before[0],
                                                      GC.seconds - gc_before[1], GC.max)
    return stats


# ----------------------------------------------------------------------------- content

def choose_content(given: Path | None, temp: Path) -> tuple[Path, float]:
    """The content to serve and the time ``build_engine`` took on it; falls back to a generated tree."""
    content = given or ROOT / "content"
    started = time.perf_counter()
    try:
        engine = build_engine(content, LOCALES)
    except ContentError as exc:
        if given is not None:
            raise SystemExit(f"--content {given} has errors: {exc}") from exc
        errors = [p for p in exc.problems if p.is_error]
        content = generate_tree(temp / "generated-content", FALLBACK_NODES)
        print(f"NOTE: {ROOT / 'content'} has {len(errors)} content error(s) (first: {errors[0]}),\n"
              f"      so BotService.create would refuse it; using a generated {FALLBACK_NODES}-step "
              f"tree in 3 languages instead ({content}).")
        started = time.perf_counter()
        engine = build_engine(content, LOCALES)
    seconds = time.perf_counter() - started
    steps = sum(len(lang.nodes) for lang in engine.tree.languages.values())
    print(f"content: {content} ({', '.join(engine.tree.codes)}; {steps} steps in all)")
    return content, seconds


def settings_for(content: Path, data: Path, api_base: str = "") -> Settings:
    """Settings as the bot reads them from its environment."""
    env = {"BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'kyr.db'}",
           "DATA_DIR": str(data), "CHAT_MIN_INTERVAL": "0", "CONTENT_DIR": str(content),
           "LOCALES_DIR": str(LOCALES)}
    if api_base:
        env["TELEGRAM_API_BASE"] = api_base
    return Settings.from_env(env)


# ----------------------------------------------------------------------------- reporting

def print_table(title: str, rows: list[Stats]) -> None:
    """One line per phase: updates, seconds, updates/s, latency quantiles, errors."""
    print(f"\n{title}")
    header = (f"{'phase':<36}{'updates':>8}{'seconds':>8}{'upd/s':>7}{'p50 ms':>9}{'p95 ms':>9}"
              f"{'p99 ms':>9}{'max ms':>9}{'cpu ms/upd':>11}{'gc ms (max)':>13}{'err':>5}")
    print(header)
    print("-" * len(header))
    for s in rows:
        cpu = s.cpu / s.updates * 1000 if s.updates else float("nan")
        gc_text = f"{s.gc_seconds * 1000:.0f} ({s.gc_max * 1000:.0f})"
        print(f"{s.name:<36}{s.updates:>8}{s.seconds:>8.2f}{s.rate:>7.0f}{s.ms(0.5):>9.2f}"
              f"{s.ms(0.95):>9.2f}{s.ms(0.99):>9.2f}{s.ms(1.0):>9.2f}{cpu:>11.2f}{gc_text:>13}"
              f"{s.errors:>5}")


def print_actions(stats: Stats) -> None:
    """Latency per kind of user action in one phase."""
    print(f"\nper action, {stats.name}:")
    for action, values in sorted(stats.by_action.items(), key=lambda kv: -len(kv[1])):
        print(f"  {action:<16}{len(values):>7}  p50 {stats.ms(0.5, action):8.2f} ms  "
              f"p99 {stats.ms(0.99, action):8.2f} ms  max {stats.ms(1.0, action):8.2f} ms")


def verdict(holds: bool) -> str:
    """HOLDS / MISSED."""
    return "HOLDS" if holds else "MISSED"


# ----------------------------------------------------------------------------- in-process mode

@dataclass
class InProcessResult:
    """What the in-process mode measured."""

    ours: list[Stats]  # sequential, saturated, paced
    bare: list[Stats]
    rss_ours: float


async def phases(label: str, driver: Driver, args: argparse.Namespace) -> list[Stats]:
    """Warm up, then the sequential, saturated and paced phases for one target."""
    await run_users("warm-up", driver, make_users(50, 9_000_000, 7), 5, 0, 30)
    sequential = await run_users(f"{label} sequential (1 user)", driver,
                                 make_users(1, 500_000, 5), args.sequential, 0, args.max_seconds / 3)
    saturated = await run_users(f"{label} saturated ({args.users} users)", driver,
                                make_users(args.users, 1_000_000, 1), max(1, args.updates // args.users),
                                0, args.max_seconds)
    paced = await run_users(f"{label} paced ({args.users} users, 1/s)", driver,
                            make_users(args.users, 2_000_000, 2), UNBOUNDED, PACED_THINK,
                            args.paced_seconds)
    return [sequential, saturated, paced]


async def in_process(args: argparse.Namespace, content: Path, build_seconds: float,
                     temp: Path) -> InProcessResult:
    """Start the real service on a local session and drive it, then a bare dispatcher."""
    started = time.perf_counter()
    service = await BotService.create(settings_for(content, temp / "inprocess"))
    create_seconds = time.perf_counter() - started
    await service.bot.session.close()
    session = LocalSession()
    service.bot = local_bot(session)
    started = time.perf_counter()
    await service.bot.get_me()
    await register_commands(service.bot, service.runtime.engine)
    register_seconds = time.perf_counter() - started
    if args.gc_freeze:
        gc.collect()
        gc.freeze()

    ours = await phases("kyr-bot", LocalDriver(service.bot, service.dispatcher, session), args)
    started = time.perf_counter()
    await service.runtime.store.flush_counts()
    flush_ms = (time.perf_counter() - started) * 1000
    sessions = await service.runtime.store.session_count()
    rss_ours = rss_mb()
    ours_calls = dict(session.calls)
    if args.profile:
        await profile(service, session, args)
    await service.runtime.store.close()
    await service.bot.session.close()

    bare_session = LocalSession()
    bare_bot = local_bot(bare_session)
    bare = await phases("bare aiogram", LocalDriver(bare_bot, bare_dispatcher(), bare_session), args)
    await bare_bot.session.close()

    print_table("IN-PROCESS (local Bot API session, SQLite file, real dispatcher)", ours + bare)
    if args.per_action:
        for stats in ours:
            print_actions(stats)
    print(f"\nstart-up: build_engine {build_seconds * 1000:.0f} ms (first load + check, all "
          f"languages) | BotService.create {create_seconds * 1000:.0f} ms | getMe + setMyCommands "
          f"{register_seconds * 1000:.0f} ms")
    print(f"peak RSS of this benchmark process (bot, harness and 1,500 simulated users): "
          f"{RSS_IMPORTS:.1f} MB after imports, {rss_ours:.1f} MB after the kyr-bot phases, "
          f"{rss_mb():.1f} MB at the end{' (includes the profiler)' if args.profile else ''}")
    print(f"kyr-bot Bot API calls: {ours_calls}; sessions stored: {sessions}; "
          f"flush_counts {flush_ms:.1f} ms")
    print(f"ratio kyr-bot / bare (saturated upd/s): {ours[1].rate / bare[1].rate:.2f}")
    if ERRORS.count:
        print(f"errors logged: {ERRORS.count}; first: {ERRORS.first}")
    return InProcessResult(ours, bare, rss_ours)


async def profile(service: BotService, session: LocalSession, args: argparse.Namespace) -> None:
    """Run a saturated phase under a profiler and print where the main thread's time goes.

    Uses pyinstrument when installed (samples the stack, so time spent in coroutines is
    attributed correctly), else cProfile. SQLite work in aiosqlite's threads is not sampled; the
    main thread waiting for it shows as ``select``.
    """
    driver = LocalDriver(service.bot, service.dispatcher, session)
    users = make_users(args.users, 3_000_000, 3)
    steps = max(1, min(args.updates, 6000) // args.users)
    try:
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        stats = await run_users("profiled", driver, users, steps, 0, args.max_seconds)
        profiler.disable()
        print(f"\nPROFILE (cProfile, {stats.updates} updates; coroutine times are per resume)")
        report = pstats.Stats(profiler)
        report.sort_stats("cumulative").print_stats(str(ROOT / "bot") + "/", 10)
        report.sort_stats("tottime").print_stats(15)
        return
    sampler = Profiler(interval=0.0005, async_mode="disabled")
    sampler.start()
    stats = await run_users("profiled", driver, users, steps, 0, args.max_seconds)
    sampler.stop()
    root = sampler.last_session.root_frame() if sampler.last_session else None
    if root is None:
        return
    cumulative: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    walk_frames(root, (), cumulative, by_package)
    total = root.time or 1.0
    print(f"\nPROFILE (pyinstrument, main thread, {stats.updates} updates in {stats.seconds:.1f} s, "
          f"{total:.1f} s sampled)")
    print("top cumulative time in bot/ (share of main-thread time, ms per update):")
    for name, seconds in cumulative.most_common(args.profile_top):
        print(f"  {seconds / total:6.1%} {seconds / stats.updates * 1000:7.3f}  {name}")
    print("self time by package:")
    for name, seconds in by_package.most_common(12):
        print(f"  {seconds / total:6.1%} {seconds / stats.updates * 1000:7.3f}  {name}")


_PACKAGES = ("aiogram", "pydantic_core", "pydantic", "sqlalchemy", "aiosqlite", "sqlmodel", "jinja2",
             "babel", "magic_filter", "greenlet", "pyinstrument")


def _package(path: str) -> str:
    bot_dir = str(ROOT / "bot") + os.sep
    if path.startswith(bot_dir):
        return "bot/" + path[len(bot_dir):]
    if path.startswith(str(ROOT / "bench")):
        return "bench (harness)"
    for name in _PACKAGES:
        if f"{os.sep}{name}{os.sep}" in path:
            return name
    if "site-packages" in path:
        return "other site-packages"
    return "stdlib:" + Path(path).stem


def walk_frames(frame: Any, seen: tuple[str, ...], cumulative: Counter[str],
                by_package: Counter[str], parent: str = "(root)") -> None:
    """Add each bot/ function's total time once per stack (recursion-safe), and self time by package.

    Self time sits in pyinstrument's synthetic ``[self]`` children, which have no file: it is
    charged to the package of the function they belong to.
    """
    path = frame.file_path
    package = _package(path) if path else parent
    key = ""
    if path and path.startswith(str(ROOT / "bot")):
        key = f"{Path(path).relative_to(ROOT)}:{frame.line_no} {frame.function}"
        if key not in seen:
            cumulative[key] += frame.time
    if not frame.children:
        by_package[package] += frame.time
    for child in frame.children:
        walk_frames(child, (*seen, key) if key else seen, cumulative, by_package, package)


# ----------------------------------------------------------------------------- HTTP mode

def _bench_telegram() -> Any:
    """tests/fake_telegram.FakeTelegram that also signals when a chat got its replies."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_telegram import NOT_MODIFIED, Call, FakeTelegram

    class BenchTelegram(FakeTelegram):
        replies = frozenset({"sendMessage", "editMessageText", "sendDocument"})

        def __init__(self) -> None:
            super().__init__()
            self.waiting: dict[int, tuple[int, asyncio.Future[float]]] = {}

        def expect(self, chat_id: int, count: int) -> asyncio.Future[float]:
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self.waiting[chat_id] = (count, future)
            return future

        async def _run(self, call: Call) -> tuple[int, dict[str, Any]]:
            result = await super()._run(call)
            if call.method in self.replies and isinstance(call.chat_id, int) and (
                    call.status == 200 or call.description == NOT_MODIFIED):
                count, future = self.waiting.get(call.chat_id, (0, None))
                if future is not None:
                    if count <= 1:
                        del self.waiting[call.chat_id]
                        if not future.done():
                            future.set_result(time.perf_counter())
                    else:
                        self.waiting[call.chat_id] = (count - 1, future)
            return result

    return BenchTelegram()


class HttpDriver:
    """Queues updates on the fake server and waits for the bot's replies to arrive there."""

    def __init__(self, fake: Any, sheet_replies: int) -> None:
        self.fake = fake
        self.sheet_replies = sheet_replies

    async def step(self, user: SimUser) -> tuple[str, float]:
        fake_user = self.fake.user(user.chat_id, language_code=user.lang)
        try:
            buttons = list(fake_user._keyboard_message().callback_data)
        except LookupError:
            buttons = []
        kind, payload = next_action(user, buttons)
        sheet = payload in ("/lawyer", "1:w")
        future = self.fake.expect(user.chat_id, self.sheet_replies if sheet else 1)
        started = time.perf_counter()
        if kind == "text":
            fake_user.send_text(payload)
        else:
            fake_user.press(payload)
        done = await asyncio.wait_for(future, 30)
        return action_label(kind, payload), float(done) - started


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_peak_rss(pid: int) -> float:
    """Peak resident set size of a process (VmHWM), in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _sep, rest = line.partition(":")
        if name == "VmHWM":
            return int(rest.split()[0]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


async def drive_process(label: str, command: list[str], env: dict[str, str], fake: Any, replies: int,
                        args: argparse.Namespace) -> tuple[Stats, float]:
    """Start a bot process polling ``fake``, drive it, read its peak RSS, stop it with SIGTERM."""
    log_path = Path(env["DATA_DIR"]) / f"{label.replace(' ', '-')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT,
                                                       stdout=log_file, stderr=log_file)
    try:
        for _ in range(300):  # ready once it polls for updates
            if fake.calls("getUpdates") or process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        if process.returncode is not None:
            raise RuntimeError(f"{label} exited with code {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-2000:]}")
        driver = HttpDriver(fake, replies)
        await run_users("warm-up", driver, make_users(10, 9_000_000, 7), 3, 0, 30)
        cpu = process_cpu(process.pid)
        stats = await run_users(f"{label} over HTTP ({args.http_users} users)", driver,
                                make_users(args.http_users, 1_000_000, 1), args.http_steps, 0,
                                args.max_seconds)
        stats.cpu = process_cpu(process.pid) - cpu  # the bot's CPU, not this process's
        stats.gc_count = stats.gc_seconds = stats.gc_max = 0  # not seen from here
        return stats, process_peak_rss(process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


async def http_mode(args: argparse.Namespace, content: Path, temp: Path) -> float:
    """``kyr-bot run`` as its own process polling the fake Bot API server, then a bare bot.

    Returns the peak RSS of the ``kyr-bot run`` process, in MB."""
    rows: list[Stats] = []
    rss: list[float] = []
    runs = [("kyr-bot", [sys.executable, "-m", "bot", "run"], 2),
            ("bare aiogram", [sys.executable, str(ROOT / "bench" / "bare_bot.py")], 1)]
    violations = 0
    for label, command, replies in runs:
        fake = _bench_telegram()
        await fake.start()
        try:
            settings = settings_for(content, temp / "http", fake.base_url)
            env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake.base_url,
                   "DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
                   "CONTENT_DIR": str(content), "LOCALES_DIR": str(LOCALES),
                   "CHAT_MIN_INTERVAL": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
            stats, peak = await drive_process(label, command + ([fake.base_url] if label != "kyr-bot"
                                                                else []), env, fake, replies, args)
            rows.append(stats)
            rss.append(peak)
            if label == "kyr-bot":
                violations = len(fake.violations)
        finally:
            await fake.stop()
    print_table("HTTP (each bot its own process, long-polling tests/fake_telegram on 127.0.0.1)", rows)
    print(f"latency = update queued on the fake server -> reply received by it (the fake server "
          f"and the simulated users share the benchmark's process); cpu = the bot process's; "
          f"gc is not seen from here. Fake server violations (kyr-bot): {violations}")
    print(f"peak RSS of the bot process: kyr-bot {rss[0]:.1f} MB, bare aiogram {rss[1]:.1f} MB")
    print(f"ratio kyr-bot / bare over HTTP (upd/s): {rows[0].rate / rows[1].rate:.2f}")
    if args.per_action:
        print_actions(rows[0])
    return rss[0]


# ----------------------------------------------------------------------------- main

async def main_async(args: argparse.Namespace) -> int:
    """Run the chosen modes and print the tables and the targets."""
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-"))
    try:
        content, build_seconds = choose_content(args.content, temp)
        result: InProcessResult | None = None
        http_rss: float | None = None
        if args.mode in ("inprocess", "both"):
            result = await in_process(args, content, build_seconds, temp)
        if args.mode in ("http", "both"):
            http_rss = await http_mode(args, content, temp)
        checks: list[tuple[str, str, bool]] = []
        if result is not None:
            sequential, saturated, paced = result.ours
            ratio = saturated.rate / result.bare[1].rate
            p99 = paced.ms(0.99)
            checks += [
                (f">= {TARGET_RATE:.0f} updates/s in-process (SQLite)", f"{saturated.rate:.0f}/s",
                 saturated.rate >= TARGET_RATE),
                (f"ratio to bare aiogram >= {TARGET_RATIO}", f"{ratio:.2f}", ratio >= TARGET_RATIO),
                (f"p99 < {TARGET_P99_MS:.0f} ms at {args.users} users (paced, 1/s each)",
                 f"{p99:.1f} ms", p99 < TARGET_P99_MS),
            ]
        if http_rss is not None:
            checks.append((f"peak RSS < {TARGET_RSS_MB:.0f} MB (the kyr-bot run process)",
                           f"{http_rss:.1f} MB", http_rss < TARGET_RSS_MB))
        if checks:
            print("\nTARGETS (5,000-step load + check: see bench/check_speed.py)")
            for name, value, holds in checks:
                print(f"  {name:<52}{value:>12}  {verdict(holds)}")
        if result is not None:
            sequential, saturated, _paced = result.ours
            print(f"  (p99 with all {args.users} users pressing without pause: {saturated.ms(0.99):.0f} ms, "
                  f"mostly waiting in line; one user alone: {sequential.ms(0.99):.1f} ms)")
        return 1 if ERRORS.count else 0
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="benchmark kyr-bot against a bare aiogram bot")
    parser.add_argument("--users", type=int, default=500, help="concurrent users in-process (500)")
    parser.add_argument("--updates", type=int, default=20000, help="updates in the saturated phase")
    parser.add_argument("--mode", choices=("inprocess", "http", "both"), default="both")
    parser.add_argument("--content", type=Path, default=None,
                        help="content folder (default: ./content, or a generated tree if it has errors)")
    parser.add_argument("--paced-seconds", type=float, default=6.0, help="length of the paced phases")
    parser.add_argument("--sequential", type=int, default=1000, help="updates in the 1-user phase")
    parser.add_argument("--http-users", type=int, default=500)
    parser.add_argument("--http-steps", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=10.0,
                        help="no update starts after this many seconds of a saturated phase")
    parser.add_argument("--profile", action="store_true", help="also profile kyr-bot with cProfile")
    parser.add_argument("--per-action", action="store_true", help="latency per kind of user action")
    parser.add_argument("--profile-top", type=int, default=10, help="lines in the profile")
    parser.add_argument("--gc-threshold", type=int, default=0,
                        help="what-if: gc.set_threshold(N, 10, 10) for both bots (default: Python's)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="what-if: gc.collect(); gc.freeze() once the service is built")
    parser.add_argument("--log-level", default="INFO", help="bot log level (logs go to /dev/null)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    global RSS_IMPORTS
    RSS_IMPORTS = rss_mb()
    args = parse_args(argv)
    configure_logging(args.log_level.upper())
    if args.gc_threshold:
        gc.set_threshold(args.gc_threshold, 10, 10)
        print(f"NOTE: what-if run with gc.set_threshold({args.gc_threshold}, 10, 10)")
    if args.gc_freeze:
        print("NOTE: what-if run with gc.freeze() after start-up")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
