"""Profile kyr-bot in one process: the real update handler and store, a Bot API answered locally.

Usage::

    .venv/bin/python bench/inprocess.py [--users 500] [--updates 20000] [--profile] [--per-action]

Not a comparison (``bench/run.py`` compares bots, each in its own process, over HTTP): the
real update handler and store built by ``BotService.create`` (SQLite in a temp folder), with a Bot
whose session answers every Bot API call locally. Simulated users walk the real tree through
the buttons the bot last sent them. Three phases: *sequential* (one user, no pause),
*saturated* (``--users`` users, no pause) and *paced* (``--users`` users each pressing about
once a second). ``--profile`` shows where the time goes. Exit code 1 if the bot logged an error.
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
# first use (bot/telegram/lazy_aiogram.py).
import bot.telegram.lazy_aiogram as _lazy  # noqa: F401  # isort: skip
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bench.gen_tree import generate_tree
from bench.simusers import SimUser, action_label, make_users, next_action
from bot.app import build_engine
from bot.content.problems import ContentError
from bot.settings import Settings
from bot.telegram.delivery import Retries
from bot.telegram.handlers import UpdateHandler
from bot.telegram.incoming import read_update
from bot.telegram.runner import BotService, register_commands

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TOKEN = "123456:BENCH"
BOT_USER: dict[str, Any] = {"id": 123456, "is_bot": True, "first_name": "KyR Bench",
                            "username": "kyr_bench_bot"}
PACED_THINK = 1.0  # seconds between one user's updates in the paced phase (Telegram: ~1 msg/s/chat)
FALLBACK_NODES = 60
UNBOUNDED = 10**9
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
        self.retries = Retries()

    async def __call__(self, bot: Bot, method: TelegramMethod[TelegramType],
                       timeout: int | None = None) -> TelegramType:
        """With retries, as ``TolerantSession`` sends."""
        return await self.retries.send(self.make_request, bot, method, timeout)

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
    return Bot(TOKEN, session=session, default=DefaultBotProperties(
        parse_mode=ParseMode.HTML, link_preview_is_disabled=True))


# ----------------------------------------------------------------------------- simulated users

class Driver(Protocol):
    """Performs one update for a user; returns what the user did and the latency in seconds."""

    async def step(self, user: SimUser) -> tuple[str, float]: ...


class LocalDriver:
    """Feeds updates straight into the update handler, timing ``read_update`` + ``feed``."""

    def __init__(self, bot: Bot, updates: UpdateHandler, session: LocalSession) -> None:
        self.bot = bot
        self.updates = updates
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
        await self.updates.feed(self.bot, read_update(raw))
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
    """Start the real service on a local session and drive it."""
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

    ours = await phases("kyr-bot", LocalDriver(service.bot, service.updates, session), args)
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

    print_table("IN-PROCESS (local Bot API session, SQLite file, real update handler)", ours)
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
    if ERRORS.count:
        print(f"errors logged: {ERRORS.count}; first: {ERRORS.first}")
    return InProcessResult(ours, rss_ours)


async def profile(service: BotService, session: LocalSession, args: argparse.Namespace) -> None:
    """Run a saturated phase under a profiler and print where the main thread's time goes.

    Uses pyinstrument when installed (samples the stack, so time spent in coroutines is
    attributed correctly), else cProfile. SQLite work in aiosqlite's threads is not sampled; the
    main thread waiting for it shows as ``select``.
    """
    driver = LocalDriver(service.bot, service.updates, session)
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


# ----------------------------------------------------------------------------- main

async def main_async(args: argparse.Namespace) -> int:
    """Run the phases and print the table and the profile."""
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-"))
    try:
        content, build_seconds = choose_content(args.content, temp)
        await in_process(args, content, build_seconds, temp)
        return 1 if ERRORS.count else 0
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="profile kyr-bot in one process")
    parser.add_argument("--users", type=int, default=500, help="concurrent users in-process (500)")
    parser.add_argument("--updates", type=int, default=20000, help="updates in the saturated phase")
    parser.add_argument("--content", type=Path, default=None,
                        help="content folder (default: ./content, or a generated tree if it has errors)")
    parser.add_argument("--paced-seconds", type=float, default=6.0, help="length of the paced phases")
    parser.add_argument("--sequential", type=int, default=1000, help="updates in the 1-user phase")
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
