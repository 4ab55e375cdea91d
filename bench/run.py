"""Benchmark kyr-bot over HTTP against stock aiogram and a tuned bare bot, in one run.

Usage::

    .venv/bin/python bench/run.py                       # about 3-4 minutes: 2 repeats
    .venv/bin/python bench/run.py --repeat 7 --seconds 10 --paced-seconds 15   # longer
    .venv/bin/python bench/run.py --ref HEAD~1          # also kyr-bot as of another commit (paired)
    .venv/bin/python bench/run.py --database-url postgresql+asyncpg://... --replicas 1,2

Every bot runs as its own process and talks HTTP to ``tests/fake_telegram`` on 127.0.0.1
(served, with the simulated users, by this process), by long polling or by webhook. By default
(``--cores split``) this process keeps one core and each bot gets the others, so no bot pays
for the fake Telegram's work on its messages; ``--cores shared`` lets them share:

- **kyr-bot**: ``python -m bot run`` (``--webhook``), as deployed.
- **stock aiogram**: ``bench/bare_bot.py stock``, a button bot as aiogram's documentation writes
  it (answer the tap, edit the message); it imports nothing of kyr-bot.
- **tuned bare**: ``bench/bare_bot.py tuned``, the same bot with the generic speed-ups kyr-bot
  also takes (lazy aiogram types, ``gc.freeze``, answers not parsed): what is left of kyr-bot's
  lead over it is its design, not tricks any bot could copy.

Phases, each in a fresh process, repeated ``--repeat`` times (targets interleaved, so a noisy
moment hits all of them), reported as min / median / max:

- **saturated**: ``--users`` users pressing without pause for ``--seconds``: updates/s (for
  kyr-bot with ``CHAT_MIN_INTERVAL=0``: capacity, not Telegram's pacing).
- **paced**: production defaults (pacer on, INFO logging to a file): ``--users`` users each
  tapping about once a second, plus one user tapping three times a second, for
  ``--paced-seconds``. Press-to-edit latency is from the tap reaching the fake server to the
  edit request reaching the fake server's handler (before the harness parses and checks it);
  updates answered by a new message (typed messages, a tap whose screen comes below) are shown
  apart, as they are paced. Users start with the main menu already on screen (as if they had
  sent /start earlier), so the phase measures taps, not 500 simultaneous /start. Each user's
  first tap comes at a random moment of the first second, then after exponential pauses.

Where the time went, printed after each paced run (``--breakdown``: saturated runs too): each
tap's time split into the time its update waited in the fake server for a getUpdates answer to
carry it, and the rest (the bot, the network, both event loops); the slowest 1 % part by part;
the harness's own event-loop lag (a 5 ms timer's lateness) and CPU; every garbage collection of
the bot (``bench/probe/sitecustomize.py``, loaded into every bot alike through PYTHONPATH:
``gc.callbacks`` timed on the system-wide monotonic clock). The harness's own collector is off
while a phase is measured (its records grow, and its full collections stalled its loop
250-530 ms, delaying every bot's updates and edits alike).

The machine's load average is printed with every figure. Exit code 1 if a bot failed.
``KYR_BENCH_KEEP=1`` keeps the temporary folder (each bot's log and data) after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import dataclasses
import gc
import itertools
import json
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, MultipartReader, TCPConnector  # noqa: E402

from bench.simusers import SimUser, action_label, make_users, next_action  # noqa: E402
from fake_telegram import NOT_MODIFIED, Call, FakeTelegram  # noqa: E402

LOCALES = ROOT / "locales"
TOKEN = "123456:BENCH"
SECRET = "bench-secret"
WEBHOOK_URL = "https://bench.example.org/webhook"
TAP_THINK = 1.0  # seconds between one user's taps in the paced phase (mean)
FAST_THINK = 1 / 3  # the fast tapper
TARGET_P50_MS, TARGET_P99_MS = 20.0, 100.0
TARGET_STOCK_RATIO, TARGET_TUNED_RATIO, TARGET_RSS_MB = 1.5, 1.0, 120.0
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument"})
PROBE = ROOT / "bench" / "probe"  # sitecustomize.py: each bot's garbage collections
LAG_TICK = 0.005  # seconds: how often the harness checks its own event loop's lag
_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("arrived", default=0.0)


# ----------------------------------------------------------------------------- the fake server

class BenchTelegram(FakeTelegram):
    """The fake Bot API server, resolving a future when a chat got the replies it waits for."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, tuple[int, asyncio.Future[Reply]]] = {}
        self.taken: dict[int, float] = {}  # chat id -> when a getUpdates answer carried its update

    def expect(self, chat_id: int, count: int) -> asyncio.Future[Reply]:
        """A future resolved when ``chat_id`` got ``count`` more replies."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (count, future)
        self.taken.pop(chat_id, None)
        return future

    async def _handle(self, request: Any) -> Any:
        _ARRIVED.set(time.perf_counter())  # the request's handler starts: before its body is read
        return await super()._handle(request)

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        batch = await super()._get_updates(call)
        now = time.perf_counter()
        for update in batch:
            query = update.get("callback_query") or update.get("message") or {}
            chat = (query.get("message") or query).get("chat", {}).get("id")
            if isinstance(chat, int):
                self.taken[chat] = now
        return batch

    async def _run(self, call: Call) -> tuple[int, dict[str, Any]]:
        result = await super()._run(call)
        if call.method in REPLY_METHODS and isinstance(call.chat_id, int) and (
                call.status == 200 or call.description == NOT_MODIFIED):
            count, future = self.waiting.get(call.chat_id, (0, None))
            if future is not None:
                if count <= 1:
                    del self.waiting[call.chat_id]
                    if not future.done():
                        future.set_result(Reply(_ARRIVED.get() or time.perf_counter(),
                                                time.perf_counter(), call.method))
                else:
                    self.waiting[call.chat_id] = (count - 1, future)
        return result

    async def deliver(self, session: ClientSession, url: str, update: dict[str, Any]) -> None:
        """POST an update to a webhook as Telegram does, and run a method given in the answer."""
        async with session.post(url, json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
            params: dict[str, Any] = {}
            if resp.status == 200 and resp.content_type == "multipart/form-data":
                reader = MultipartReader(resp.headers, resp.content)
                while isinstance(part := await reader.next(), BodyPartReader):
                    params[part.name or ""] = await part.text()
            elif resp.status == 200 and resp.content_type == "application/json":
                body = await resp.json()
                params = body if isinstance(body, dict) else {}
            elif resp.status != 200:
                raise RuntimeError(f"webhook answered {resp.status}")
        method = params.pop("method", None)
        if isinstance(method, str):
            call = Call(self._canonical_names.get(method.lower(), method), params,
                        time.monotonic(), None, via="webhook-reply")
            call.chat_id = params.get("chat_id")
            if isinstance(call.chat_id, str) and call.chat_id.lstrip("-").isdigit():
                call.chat_id = int(call.chat_id)
            self.requests.append(call)
            await self._run(call)


@dataclass(frozen=True)
class Reply:
    """The reply a user waited for: when its request reached the harness's handler, when the
    harness had handled it, and its method."""

    arrived: float
    done: float
    method: str


@dataclass(frozen=True)
class Timing:
    """Where one tap's press-to-edit time went (seconds)."""

    at: float  # when the tap was sent, from the phase's start
    total: float  # tap sent -> the edit reached the harness's handler
    queued: float  # polling: tap queued -> a getUpdates answer carried it (0 by webhook)
    bot: float  # the rest of ``total``: the bot, the network and both event loops' delays
    handling: float  # the edit's handler start -> the harness has handled it (not in ``total``)


class Driver:
    """Sends a user's next update (queued for polling, or posted to the webhook); times the reply."""

    def __init__(self, fake: BenchTelegram, replies_for_sheet: int, webhook: str = "",
                 more_webhooks: tuple[str, ...] = ()) -> None:
        self.fake = fake
        self.sheet_replies = replies_for_sheet
        self.webhooks = itertools.cycle((webhook, *more_webhooks))  # round-robin, as a balancer
        self.session: ClientSession | None = None
        self.phase_start = time.perf_counter()
        if webhook:  # Telegram opens at most 40 connections to a webhook by default
            self.session = ClientSession(connector=TCPConnector(limit=40),
                                         timeout=ClientTimeout(total=60))

    async def close(self) -> None:
        """Close the webhook client."""
        if self.session is not None:
            await self.session.close()

    async def step(self, user: SimUser) -> tuple[str, str, Timing]:
        """Do the user's next action; returns (kind, label, where the time went)."""
        fake_user = self.fake.user(user.chat_id, language_code=user.lang)
        try:
            message = fake_user.keyboard_message()
            buttons = list(message.callback_data)
        except LookupError:
            message, buttons = None, []
        kind, payload = next_action(user, buttons)
        sheet = payload in ("/lawyer", "1:w")
        future = self.fake.expect(user.chat_id, self.sheet_replies if sheet else 1)
        if kind == "press" and message is not None:
            update = self.fake.make_callback_update(user.chat_id, message.message_id, payload,
                                                    user=fake_user.as_dict())
        else:
            kind, payload = "text", payload if kind == "text" else "/start"
            update = self.fake.make_message_update(user.chat_id, payload, user=fake_user.as_dict())
        started = time.perf_counter()
        if self.session is not None:
            await self.fake.deliver(self.session, next(self.webhooks), update)
        else:
            self.fake.queue_update(update)
        reply = await asyncio.wait_for(future, 60)
        taken = self.fake.taken.pop(user.chat_id, started) if self.session is None else started
        # A tap answered by an edit is press-to-edit; one answered by a new message (a screen
        # that must come below, the lawyer sheet) is paced like any new message.
        label = "tap" if kind == "press" and reply.method == "editMessageText" and not sheet else "new"
        total = reply.arrived - started
        return label, action_label(kind, payload), Timing(
            started - self.phase_start, total, taken - started, reply.arrived - taken,
            reply.done - reply.arrived)


# ----------------------------------------------------------------------------- one run

@dataclass
class Run:
    """What one process did in one phase."""

    target: str
    transport: str
    phase: str
    updates: int = 0
    seconds: float = 0.0
    taps: list[float] = field(default_factory=list)  # press-to-edit
    texts: list[float] = field(default_factory=list)  # update -> new message (typed, or a tap)
    fast: list[float] = field(default_factory=list)  # the fast tapper's taps
    timings: list[Timing] = field(default_factory=list)  # the taps', part by part
    lags: list[float] = field(default_factory=list)  # the harness's event-loop lag, each tick
    harness_cpu: float = 0.0  # share of one core the harness process used

    @property
    def harness_ms(self) -> float:
        """The harness's CPU per update (ms): the fake server's work grows with the bot's messages."""
        return self.harness_cpu * self.seconds / self.updates * 1000 if self.updates else 0.0
    gc_pauses: list[tuple[float, float, int]] = field(default_factory=list)  # the bot's: start, s, gen
    harness_gc: list[float] = field(default_factory=list)  # the harness's collections, s
    cpu_ms: float = 0.0  # the bot process's CPU per update
    rss_mb: float = 0.0
    load: float = 0.0
    errors: int = 0

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.updates / self.seconds if self.seconds else 0.0


def quantile_ms(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def drive(driver: Driver, users: list[SimUser], think: float, seconds: float, run: Run,
                fast: SimUser | None = None) -> None:
    """Users act until ``seconds`` pass (pausing about ``think`` s between actions, or not)."""
    deadline = time.perf_counter() + seconds

    async def walk(user: SimUser, pause_mean: float, into_fast: bool) -> None:
        pause = user.rng.uniform(0, pause_mean) if pause_mean else 0.0
        while True:
            if pause:  # never past the deadline: the phase's length is its updates' time
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            if time.perf_counter() > deadline:
                return
            kind, _label, timing = await driver.step(user)
            user.steps += 1
            run.updates += 1
            if into_fast and kind == "tap":
                run.fast.append(timing.total)
            elif kind == "tap":
                run.taps.append(timing.total)
                run.timings.append(timing)
            else:
                run.texts.append(timing.total)
            pause = user.rng.expovariate(1 / pause_mean) if pause_mean else 0.0

    async def watch_lag() -> None:  # the harness's own event loop: how late a timer fires
        while True:
            before = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            run.lags.append(time.perf_counter() - before - LAG_TICK)

    gc_started = [0.0]

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            run.harness_gc.append(time.perf_counter() - gc_started[0])

    started = driver.phase_start = time.perf_counter()
    cpu = time.process_time()
    walkers = [walk(u, think, False) for u in users]
    if fast is not None:
        walkers.append(walk(fast, FAST_THINK, True))
    watcher = asyncio.create_task(watch_lag())
    # The harness's own collections stalled its loop 250-530 ms (the fake server's records
    # grow), delaying every bot's updates and edits alike: none while a phase is measured.
    gc.collect()
    gc.freeze()
    gc.disable()
    gc.callbacks.append(on_gc)
    try:
        await asyncio.gather(*walkers)
    finally:
        gc.callbacks.remove(on_gc)
        watcher.cancel()
        gc.enable()
        gc.unfreeze()
    run.seconds = time.perf_counter() - started
    run.harness_cpu = (time.process_time() - cpu) / run.seconds


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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Target:
    """A bot to measure: kyr-bot from a source tree, or a baseline of bench/bare_bot.py."""

    name: str
    kind: str  # "kyr-bot", "stock", "tuned" or "lean"
    root: Path = ROOT
    env: tuple[tuple[str, str], ...] = ()
    replicas: int = 1  # webhook processes behind a round-robin balancer (one database)

    def command(self, api_base: str, port: int) -> list[str]:
        """The command line that starts it."""
        if self.kind == "kyr-bot":
            return [sys.executable, "-m", "bot", "run", *(["--webhook"] if port else [])]
        return [sys.executable, str(ROOT / "bench" / "bare_bot.py"), self.kind, api_base,
                *(["--webhook", str(port)] if port else [])]

    def environment(self, api_base: str, data: Path, port: int, defaults: bool,
                    args: argparse.Namespace) -> dict[str, str]:
        """Its environment: production defaults in the paced phase, no pacing when saturated."""
        env = {**os.environ, "PYTHONPATH": f"{PROBE}{os.pathsep}{self.root}"}
        if self.kind != "kyr-bot":
            return env
        env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=api_base, DATA_DIR=str(data),
                   DATABASE_URL=args.database_url or f"sqlite+aiosqlite:///{data / 'kyr.db'}",
                   CONTENT_DIR=str(args.content), LOCALES_DIR=str(LOCALES), LOG_LEVEL="INFO",
                   SESSION_SECRET="bench-session-secret")
        if not defaults:
            env["CHAT_MIN_INTERVAL"] = "0"
        if port:
            env.update(WEBHOOK_URL=WEBHOOK_URL, WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
        env.update(dict(self.env))
        return env


async def start(target: Target, fake: BenchTelegram, data: Path, port: int, defaults: bool,
                args: argparse.Namespace, log_name: str) -> asyncio.subprocess.Process:
    """Start the bot and wait until it polls, or until its webhook is set and listening."""
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / f"{log_name}.log"
    env = target.environment(fake.base_url, data, port, defaults, args)
    env["BENCH_PROBE_OUT"] = str(data / f"{log_name}.gc.jsonl")
    if args.profile:
        env["BENCH_PROFILE"] = str(data / f"{log_name}.prof")
    with log_path.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *target.command(fake.base_url, port), env=env,
            cwd=target.root, stdout=log_file, stderr=log_file)
    bot_cpus = getattr(args, "bot_cpus", None)  # set by split_cores (bench/memory.py shares)
    if bot_cpus:
        # Right after exec, while the interpreter starts: the threads the bot starts later
        # (its store's) inherit the main thread's cores. (Not preexec_fn: unsafe with threads.)
        os.sched_setaffinity(process.pid, bot_cpus)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and process.returncode is None:
        if port and fake.webhook is not None:
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return process
        elif not port and fake.calls("getUpdates"):
            return process
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    raise RuntimeError(f"{target.name} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, as a service manager stops it."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()


def seed_menu(fake: BenchTelegram, template_by_lang: dict[str, Any], users: list[SimUser]) -> None:
    """Put the bot's main menu (as sent in the warm-up) on each user's screen."""
    for user in users:
        template = template_by_lang[user.lang]
        message_id = fake.new_message_id(user.chat_id)
        fake.store.setdefault(user.chat_id, {})[message_id] = dataclasses.replace(
            template, chat_id=user.chat_id, message_id=message_id)
        fake.user(user.chat_id, language_code=user.lang)
        user.steps = 1


async def one_run(target: Target, transport: str, phase: str, args: argparse.Namespace,
                  temp: Path, seed: int) -> Run:
    """Start a fresh process of ``target``, warm it up, run one phase, stop it."""
    fake = BenchTelegram()
    # Update ids never repeat between runs: on PostgreSQL the bot records every id it applied
    # (a day long, to apply a repeat only once), so a second run counting from 1 again would
    # see its updates ignored as repeats of the first run's.
    fake.skip_update_ids(int(time.time() * 1000) * 1000)
    await fake.start()
    ports = [free_port() for _ in range(target.replicas)] if transport == "webhook" else [0]
    data = temp / f"{target.name}-{transport}".replace(" ", "-").replace("@", "-")
    run = Run(target.name, transport, phase)
    paced = phase == "paced"
    processes: list[asyncio.subprocess.Process] = []
    urls = [f"http://127.0.0.1:{port}/webhook" for port in ports if port]
    driver = Driver(fake, 2 if target.kind == "kyr-bot" else 1, urls[0] if urls else "",
                    tuple(urls[1:]))
    try:
        for i, port in enumerate(ports):
            processes.append(await start(target, fake, data, port, paced, args, f"{phase}-{i}"))
        warm = make_users(10, 9_000_000 + seed * 100, seed)
        templates: dict[str, Any] = {}
        for _ in range(40):  # until every language's main menu was seen (a slow start under load)
            await drive(driver, warm, 0.0, 0.5, Run("", "", ""))
            for user in warm:
                with contextlib.suppress(LookupError):
                    templates.setdefault(user.lang, fake.user(user.chat_id).keyboard_message())
            if len(templates) == len({u.lang for u in warm}):
                break
        cpu = sum(process_cpu(p.pid) for p in processes)
        first = 1_000_000 * (seed + 1)
        users = make_users(args.users, first, seed)
        if paced:
            fast = make_users(1, first - 1, seed + 7)[0]
            seed_menu(fake, templates, [*users, fast])
            await drive(driver, users, TAP_THINK, args.paced_seconds, run, fast)
        else:
            for process in processes if args.profile else ():
                process.send_signal(signal.SIGUSR1)  # bench/probe: start profiling
            await drive(driver, users, 0.0, args.seconds, run)
            for process in processes if args.profile else ():
                process.send_signal(signal.SIGUSR1)  # and write the profile
        run.cpu_ms = (sum(process_cpu(p.pid) for p in processes) - cpu) / max(1, run.updates) * 1000
        run.rss_mb = max(process_peak_rss(p.pid) for p in processes)
        run.load = os.getloadavg()[0]
        run.errors = len(fake.violations)
    finally:
        await driver.close()
        for process in processes:
            await stop(process)
        await fake.stop()
    run.errors += sum(1 for p in processes if p.returncode not in (0, -15))
    for i in range(len(ports)):
        profile = data / f"{phase}-{i}.prof"
        if profile.exists():
            print(f"  profile of {target.name} ({transport}, {phase}), CPU ms per update:")
            stats = pstats.Stats(str(profile), stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(args.profile_top)
            stats.sort_stats("cumulative").print_stats(args.profile_top)
            if args.profile_dir:
                args.profile_dir.mkdir(parents=True, exist_ok=True)
                kept = f"{target.name}-{transport}-{seed}.prof".replace(" ", "-")
                shutil.copy(profile, args.profile_dir / kept)
            profile.unlink()
        probe = data / f"{phase}-{i}.gc.jsonl"
        if probe.exists():
            pauses = [tuple(json.loads(line)) for line in probe.read_text().splitlines() if line]
            run.gc_pauses += [(at - driver.phase_start, s, int(gen)) for at, s, gen in pauses
                              if driver.phase_start <= at <= driver.phase_start + run.seconds]
            probe.unlink()
    return run


# ----------------------------------------------------------------------------- reporting

def overlaps_gc(timing: Timing, pauses: list[tuple[float, float, int]]) -> bool:
    """Whether one of the bot's collections ran while this tap waited."""
    end = timing.at + timing.total
    return any(at < end and at + s > timing.at for at, s, _gen in pauses)


def breakdown(run: Run) -> str:
    """Where the paced taps' time went: each part at p50 and p99, the slowest 1 % part by part,
    the harness's loop lag and CPU, and the bot's garbage collections."""
    if not run.timings:
        return ""
    slow = sorted(run.timings, key=lambda t: t.total)[int(0.99 * len(run.timings)):]

    def part(name: str, values: list[float]) -> str:
        return (f"{name} {quantile_ms(values, 0.5):.1f}/{quantile_ms(values, 0.99):.1f}"
                f"/{max(values) * 1000:.0f}")

    def mean_ms(values: list[float]) -> float:
        return statistics.fmean(values) * 1000 if values else float("nan")

    gcs = run.gc_pauses
    full = [s for _at, s, gen in gcs if gen == 2]
    lines = [
        "    parts p50/p99/max ms: " + ", ".join((
            part("total", [t.total for t in run.timings]),
            part("queued in the server", [t.queued for t in run.timings]),
            part("bot and transport", [t.bot for t in run.timings]),
            part("harness handling the edit (not counted)", [t.handling for t in run.timings]))),
        f"    slowest 1 % ({len(slow)} taps, from {min(t.total for t in slow) * 1000:.0f} ms), mean ms: "
        f"queued {mean_ms([t.queued for t in slow]):.1f}, bot and transport "
        f"{mean_ms([t.bot for t in slow]):.1f}; sent in the phase's first second: "
        f"{sum(t.at < 1.0 for t in slow)}, during a collection of the bot: "
        f"{sum(overlaps_gc(t, gcs) for t in slow)}",
        f"    harness: loop lag p50/p99/max {quantile_ms(run.lags, 0.5):.1f}/"
        f"{quantile_ms(run.lags, 0.99):.1f}/{max(run.lags, default=0) * 1000:.0f} ms, "
        f"CPU {run.harness_cpu:.0%} of a core, its collections {len(run.harness_gc)} (longest "
        f"{max(run.harness_gc, default=0) * 1000:.0f} ms); bot's collections: {len(gcs)}, "
        f"{sum(s for _a, s, _g in gcs) * 1000:.0f} ms in all, longest "
        f"{max((s for _a, s, _g in gcs), default=0) * 1000:.1f} ms, full ones {len(full)} "
        f"(longest {max(full, default=0) * 1000:.1f} ms)",
    ]
    return "\n".join(lines)


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    """min / median / max."""
    if not values:
        return "-"
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def report(runs: list[Run], targets: list[Target], args: argparse.Namespace) -> bool:
    """Print the tables (min/median/max over repeats) and the targets; True if all hold."""
    def pick(target: str, transport: str, phase: str) -> list[Run]:
        return [r for r in runs if (r.target, r.transport, r.phase) == (target, transport, phase)]

    def row(*cells: object) -> None:
        print(f"{cells[0]!s:<22}{cells[1]!s:<9}" + "".join(f"{c!s:>21}" for c in cells[2:]))

    print(f"\nSATURATED: {args.users} users pressing without pause for {args.seconds:.0f} s "
          f"(min/median/max of {args.repeat} runs; kyr-bot with CHAT_MIN_INTERVAL=0)")
    row("bot", "via", "updates/s", "p50 ms", "p99 ms", "cpu ms/update", "harness cpu ms/upd",
        "peak RSS MB", "load 1m")
    for transport in args.transports:
        for t in targets:
            rs = pick(t.name, transport, "saturated")
            if rs:
                row(t.name, transport, spread([r.rate for r in rs]),
                    spread([quantile_ms(r.taps + r.texts, 0.5) for r in rs], "{:.1f}"),
                    spread([quantile_ms(r.taps + r.texts, 0.99) for r in rs]),
                    spread([r.cpu_ms for r in rs], "{:.2f}"), spread([r.harness_ms for r in rs], "{:.2f}"),
                    spread([r.rss_mb for r in rs], "{:.1f}"),
                    spread([r.load for r in rs], "{:.2f}"))
    if any(r.phase == "paced" for r in runs):
        print(f"\nPACED (production defaults: pacer on, INFO logging): {args.users} users tapping about "
              f"once a second + 1 user tapping 3 times a second, {args.paced_seconds:.0f} s; "
              "press-to-edit in ms; new message: update to a reply sent as a new message (paced)")
        row("bot", "via", "tap p50", "tap p99", "fast tapper p50", "fast tapper p99", "new message p50",
            "peak RSS MB", "load 1m")
        for transport in args.transports:
            for t in targets:
                rs = pick(t.name, transport, "paced")
                if rs:
                    row(t.name, transport, spread([quantile_ms(r.taps, 0.5) for r in rs], "{:.1f}"),
                        spread([quantile_ms(r.taps, 0.99) for r in rs], "{:.1f}"),
                        spread([quantile_ms(r.fast, 0.5) for r in rs], "{:.1f}"),
                        spread([quantile_ms(r.fast, 0.99) for r in rs], "{:.1f}"),
                        spread([quantile_ms(r.texts, 0.5) for r in rs]),
                        spread([r.rss_mb for r in rs], "{:.1f}"), spread([r.load for r in rs], "{:.2f}"))
    errors = sum(r.errors for r in runs)
    print(f"\nfake server violations or bot crashes: {errors}; load average now "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) on {os.cpu_count()} cores")

    def ratios(ours: str, other: str, transport: str) -> list[float]:
        a = pick(ours, transport, "saturated")
        b = pick(other, transport, "saturated")
        return [x.rate / y.rate for x, y in zip(a, b, strict=False) if y.rate]  # paired by repeat

    checks: list[tuple[str, str, bool]] = []
    kyr = targets[0].name
    for transport in args.transports:
        for other, goal in (("stock aiogram", TARGET_STOCK_RATIO), ("tuned bare", TARGET_TUNED_RATIO)):
            rs = ratios(kyr, other, transport)
            if rs:
                checks.append((f"{transport}: updates/s {kyr} / {other} >= {goal}",
                               spread(rs, "{:.2f}"), statistics.median(rs) >= goal))
        paced = pick(kyr, transport, "paced")
        if paced:
            p50 = [quantile_ms(r.taps, 0.5) for r in paced]
            p99 = [quantile_ms(r.taps, 0.99) for r in paced]
            checks.append((f"{transport}: press-to-edit p50 < {TARGET_P50_MS:.0f} ms", spread(p50, "{:.1f}"),
                           statistics.median(p50) < TARGET_P50_MS))
            checks.append((f"{transport}: press-to-edit p99 < {TARGET_P99_MS:.0f} ms", spread(p99, "{:.1f}"),
                           statistics.median(p99) < TARGET_P99_MS))
        rss = [r.rss_mb for r in runs if r.target == kyr and r.transport == transport]
        if rss:
            checks.append((f"{transport}: peak RSS of {kyr} < {TARGET_RSS_MB:.0f} MB", spread(rss, "{:.1f}"),
                           max(rss) < TARGET_RSS_MB))
    if len(args.replicas) > 1:
        base = [r.rate for r in runs if r.target == targets[0].name and r.phase == "saturated"]
        for t in targets[1:]:
            more = [r.rate for r in runs if r.target == t.name and r.phase == "saturated"]
            if base and more:
                print(f"scale-out: {t.name} / {targets[0].name} updates/s (paired by repeat): "
                      f"{spread([m / b for m, b in zip(more, base, strict=False)], '{:.2f}')} "
                      f"(database: {args.database_url or 'SQLite'})")
    for transport in args.transports:
        rs = ratios(kyr, "lean bare", transport)
        if rs:
            print(f"for information, {transport}: updates/s {kyr} / lean bare (every generic "
                  f"speed-up kyr-bot takes, none of its work): {spread(rs, '{:.2f}')}")
    print(f"\nTARGETS (median of {args.repeat} paired runs; min/median/max shown)")
    for name, value, holds in checks:
        print(f"  {name:<58}{value:>20}  {'HOLDS' if holds else 'MISSED'}")
    return errors == 0


# ----------------------------------------------------------------------------- main

def checkout(ref: str, temp: Path) -> Path:
    """The source tree of kyr-bot at ``ref`` (git archive), for a paired comparison."""
    folder = temp / f"ref-{ref.replace('/', '_').replace('~', '_')}"
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def choose_content(given: Path | None) -> Path:
    """The content the bots serve (kyr-bot refuses to start on content with errors)."""
    return given or ROOT / "content"


async def main_async(args: argparse.Namespace) -> int:
    """Run every target, phase and transport ``--repeat`` times, interleaved, then report."""
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-"))
    try:
        targets = [Target("kyr-bot", "kyr-bot", env=tuple(args.env_pairs))]
        if args.replicas:
            targets = [Target(f"kyr-bot x{n}", "kyr-bot", env=tuple(args.env_pairs), replicas=n)
                       for n in args.replicas]
        for ref in args.ref:
            targets.append(Target(f"kyr-bot@{ref}", "kyr-bot", checkout(ref, temp)))
        if not args.no_baselines:
            targets += [Target("stock aiogram", "stock"), Target("tuned bare", "tuned")]
        if args.lean:
            targets.append(Target("lean bare", "lean"))
        load = "/".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"bench/run.py: {', '.join(t.name for t in targets)}; transports "
              f"{', '.join(args.transports)}; {args.repeat} repeats; load average at start {load} "
              f"on {os.cpu_count()} cores; {cores_line(args)}")
        runs: list[Run] = []
        began = time.perf_counter()
        plan: list[tuple[str, str]] = [(tr, "saturated") for tr in args.transports]
        plan += [(tr, "paced") for tr in args.transports if args.paced_seconds > 0]
        for repeat in range(args.repeat):
            for transport, phase in plan:
                for target in targets:
                    if (phase == "paced" and transport != "polling" and target.kind != "kyr-bot"
                            and not args.all_paced):
                        continue  # baselines: the paced phase over polling is enough
                    run = await one_run(target, transport, phase, args, temp, repeat)
                    runs.append(run)
                    print(f"  run {repeat + 1}/{args.repeat} {target.name:<22}{transport:<8}{phase:<10}"
                          f"{run.rate:7.0f} upd/s  taps p50 {quantile_ms(run.taps, 0.5):6.1f} "
                          f"p99 {quantile_ms(run.taps, 0.99):6.1f} ms  rss {run.rss_mb:5.1f} MB  "
                          f"load {run.load:.2f}", flush=True)
                    if args.breakdown or phase == "paced":
                        print(breakdown(run), flush=True)
        ok = report(runs, targets, args)
        print(f"\n{time.perf_counter() - began:.0f} s in all")
        return 0 if ok else 1
    finally:
        if not os.environ.get("KYR_BENCH_KEEP"):
            shutil.rmtree(temp, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="kyr-bot against stock aiogram and a tuned bare bot")
    parser.add_argument("--repeat", type=int, default=2, help="runs of every phase (2)")
    parser.add_argument("--users", type=int, default=500, help="simulated users (500)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of a saturated phase (3)")
    parser.add_argument("--paced-seconds", type=float, default=5.0,
                        help="length of a paced phase (5; 0 skips it)")
    parser.add_argument("--transport", choices=("polling", "webhook", "both"), default="both")
    parser.add_argument("--content", type=Path, default=None, help="content folder (./content)")
    parser.add_argument("--ref", action="append", default=[],
                        help="also run kyr-bot as of this git commit (paired comparison)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for kyr-bot (e.g. CHAT_BURST=1)")
    parser.add_argument("--database-url", default="", help="kyr-bot's DATABASE_URL (default: SQLite)")
    parser.add_argument("--no-baselines", action="store_true", help="only kyr-bot (and --ref)")
    parser.add_argument("--replicas", default="",
                        help="scale-out: e.g. 1,2 runs kyr-bot as 1 and as 2 webhook replicas behind a "
                             "round-robin balancer (use with --database-url; implies --transport webhook "
                             "--no-baselines)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile each bot in the saturated phase (bench/probe) and print it")
    parser.add_argument("--profile-top", type=int, default=25, help="lines of each profile (25)")
    parser.add_argument("--profile-dir", type=Path, default=None, help="also keep the profiles here")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print where the time went in the saturated phase")
    parser.add_argument("--cores", choices=("split", "shared"), default="split",
                        help="split (default): the harness on one core, the bot on the others; "
                             "shared: all on all cores")
    parser.add_argument("--lean", action="store_true",
                        help="also run a lean bare bot (bench/bare_bot.py lean), for information")
    parser.add_argument("--all-paced", action="store_true",
                        help="also run the baselines' paced phase over webhook")
    args = parser.parse_args(argv)
    args.replicas = [int(n) for n in args.replicas.split(",") if n.strip()]
    if args.replicas:
        args.transport, args.no_baselines = "webhook", True
    args.transports = ["polling", "webhook"] if args.transport == "both" else [args.transport]
    args.content = choose_content(args.content)
    args.env_pairs = [tuple(e.split("=", 1)) for e in args.env]
    return args


def split_cores(args: argparse.Namespace) -> None:
    """``--cores split``: the harness on the first core it may use, each bot on the others.

    On one machine the fake Telegram and the simulated users (this process) share the CPU with
    the bot. Sharing, a bot whose messages cost the fake server more to check (HTML, files)
    loses throughput to work that real Telegram does on its own machines. Split, each bot has
    a core of its own and is limited by its own work. Scale-out runs (several replicas and a
    database) always share.
    """
    args.bot_cpus = set()
    allowed = sorted(os.sched_getaffinity(0))
    if args.cores == "split" and not args.replicas and len(allowed) >= 2:
        try:
            os.sched_setaffinity(0, {allowed[0]})
        except OSError as exc:  # a container that forbids it: share, and say so (cores_line)
            print(f"bench/run.py: cannot pin to cores ({exc}); bots and harness share them")
            return
        args.bot_cpus = set(allowed[1:])


def cores_line(args: argparse.Namespace) -> str:
    """How the cores are shared, for the report's first line."""
    if not args.bot_cpus:
        return "bots and harness share the cores"
    harness = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    bots = ",".join(str(c) for c in sorted(args.bot_cpus))
    return f"harness on core {harness}, each bot on core {bots} (--cores split)"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    args = parse_args(argv)
    split_cores(args)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
