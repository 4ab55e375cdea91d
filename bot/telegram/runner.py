"""Run the Telegram bot: long polling or webhook, with a clean start and a clean stop.

At start: content and catalogs are loaded and checked (errors stop the start with a clear
message), the store is opened, commands are registered per language. On SIGINT or SIGTERM:
no new updates are taken, updates in flight finish, counts are written, the store is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hmac
import json
import logging
import signal
import sys
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from aiogram.utils.token import TokenValidationError
from aiohttp import web

from bot.app import build_engine
from bot.content.problems import ContentError
from bot.conversation.commands import COMMANDS
from bot.conversation.engine import Engine
from bot.settings import Settings, SettingsError
from bot.store.keys import SessionKeyer, load_secret
from bot.store.sessions import SessionStore
from bot.telegram.courtesy import run_courteously
from bot.telegram.delivery import ChatPacer, TolerantSession
from bot.telegram.handlers import USED_UPDATES, InFlight, UpdateHandler
from bot.telegram.incoming import Malformed, read_update
from bot.telegram.polling import Poller
from bot.telegram.release import release_gradually
from bot.telegram.steps import CALLBACK_ANSWERED, Conversation, Runtime
from bot.telegram.tasks import UpdateTasks
from bot.telegram.webhook_guard import ConnectionGuard, OutOfFilesLog
from bot.words.i18n import N_

log = logging.getLogger("kyr_bot")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FLUSH_SECONDS = 30.0
PURGE_SECONDS = 3600.0
DRAIN_SECONDS = 20.0
# A webhook request must arrive whole within this many seconds of its connection opening (or
# of the previous answer); at most this many connections are open (Telegram uses up to 40).
WEBHOOK_READ_TIMEOUT = 10.0
WEBHOOK_MAX_CONNECTIONS = 256
RELOAD_SWITCH_INTERVAL = 0.0005  # seconds (Python's default: 0.005)

# Shown in Telegram before the first message: what the bot is, that it is not a lawyer, and
# that it keeps nothing that identifies anyone. Telegram allows 512 and 120 characters.
DESCRIPTION = N_("This bot explains, in plain words, what can happen when the US government asks "
                 "an immigration judge to send an asylum seeker to a country that is not their "
                 "own, and where to find free legal help. It is not a lawyer and does not give "
                 "legal advice. It keeps nothing that identifies you: not your name, not your "
                 "phone number, not what you type.")
SHORT_DESCRIPTION = N_("Your rights if the US wants to send you to a third country. Not a "
                       "lawyer. Keeps nothing that identifies you.")
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120

NO_TOKEN = """BOT_TOKEN is not set, so the Telegram bot cannot start.

To get a token: open Telegram, talk to @BotFather, send /newbot and follow the steps.
Then start the bot with:  BOT_TOKEN=123456:ABC... kyr-bot run

To try the conversation without Telegram, run:  kyr-bot chat"""


def configure_logging(level: str) -> None:
    """One line per event; aiogram's own per-update lines are not needed next to ours."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


def create_bot(settings: Settings) -> Bot:
    """A Bot with retries, talking to Telegram or to ``TELEGRAM_API_BASE``."""
    if not settings.bot_token:
        raise SettingsError(NO_TOKEN)
    base = settings.telegram_api_base
    api = TelegramAPIServer.from_base(base) if base else PRODUCTION
    session = TolerantSession(api=api)
    try:
        return Bot(settings.bot_token, session=session,
                   default=DefaultBotProperties(parse_mode=ParseMode.HTML,
                                                link_preview_is_disabled=True))
    except TokenValidationError as exc:
        raise SettingsError("BOT_TOKEN does not look like a Telegram token (it should look like "
                            "123456:ABC-DEF...); copy it again from @BotFather") from exc


async def register_commands(bot: Bot, engine: Engine) -> None:
    """setMyCommands in every language (and English as the default)."""
    for code in (None, *engine.tree.codes):
        lang = code or engine.tree.source_language
        commands = [BotCommand(command=c.name, description=engine.i18n.gettext(lang, c.description))
                    for c in COMMANDS]
        await bot.set_my_commands(commands, language_code=code)
    await register_descriptions(bot, engine)


async def register_descriptions(bot: Bot, engine: Engine) -> None:
    """setMyDescription and setMyShortDescription in every language (English as the default)."""
    for code in (None, *engine.tree.codes):
        lang = code or engine.tree.source_language
        description = _within(engine, lang, DESCRIPTION, MAX_DESCRIPTION)
        short = _within(engine, lang, SHORT_DESCRIPTION, MAX_SHORT_DESCRIPTION)
        await bot.set_my_description(description, language_code=code)
        await bot.set_my_short_description(short, language_code=code)


def _within(engine: Engine, lang: str, msgid: str, limit: int) -> str:
    """The translation, or English when a translation is longer than Telegram accepts."""
    text = engine.i18n.gettext(lang, msgid)
    if len(text) <= limit:
        return text
    log.warning("description too long for Telegram lang=%s chars=%d limit=%d; English used",
                lang, len(text), limit)
    return engine.i18n.gettext(engine.tree.source_language, msgid)


class RecentIds:
    """The last ``size`` update ids seen, to apply an update Telegram delivers twice only once."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._seen: set[int] = set()
        self._order: deque[int] = deque()

    def first_time(self, update_id: int) -> bool:
        """Remember ``update_id``; False if it was already seen."""
        if update_id in self._seen:
            return False
        self._seen.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.size:
            self._seen.discard(self._order.popleft())
        return True


@dataclass
class BotService:
    """Everything a running bot holds, built from settings."""

    settings: Settings
    runtime: Runtime
    bot: Bot
    updates: UpdateHandler
    in_flight: InFlight = field(default_factory=InFlight)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _webhook_tasks: UpdateTasks = field(init=False)
    _recent: RecentIds = field(default_factory=RecentIds)
    _reloader: asyncio.Task[None] | None = None
    _guard: ConnectionGuard | None = None
    _reload_wanted: bool = False

    def __post_init__(self) -> None:
        self._webhook_tasks = UpdateTasks(self.settings.max_updates_in_flight)

    @classmethod
    async def create(cls, settings: Settings) -> BotService:
        """Load content, open the store, build the bot and its update handler.

        Raises on bad settings or content.
        """
        started = time.perf_counter()
        # aiogram warns about unknown update types by dumping the whole update: never log that.
        warnings.filterwarnings("ignore", message="Detected unknown update type")
        bot = create_bot(settings)
        engine = build_engine(settings.content_dir, settings.locales_dir)
        store = SessionStore(settings.database_url)
        await store.open()
        try:
            keyer = SessionKeyer(load_secret(settings.session_secret, settings.data_dir,
                                             sessions_exist=await store.has_sessions()))
        except BaseException:
            await store.close()
            raise
        if not settings.session_secret and not settings.database_url.startswith("sqlite"):
            log.warning("SESSION_SECRET is not set: every replica must share the same secret, "
                        "or a user's session will not be found on another replica")
        runtime = Runtime(engine=engine, store=store, keyer=keyer,
                          pacer=ChatPacer(settings.chat_min_interval, settings.chat_burst,
                                          settings.global_messages_per_second))
        in_flight = InFlight()
        updates = UpdateHandler(Conversation(runtime), in_flight)
        log.info("loaded languages=%s steps=%d content_version=%s ms=%.0f",
                 ",".join(engine.tree.codes),
                 sum(len(x.nodes) for x in engine.tree.languages.values()),
                 engine.tree.version, (time.perf_counter() - started) * 1000)
        # Keep the collector from rescanning the long-lived objects made so far on every full
        # collection (pauses of 200-300 ms measured by bench/inprocess.py).
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        return cls(settings, runtime, bot, updates, in_flight)

    async def reload(self) -> bool:
        """Load content and catalogs again; switch to them only if they have no errors."""
        # In a thread: a large tree takes seconds to check, and users keep being served
        # (bench/reload.py measures their latency meanwhile). Three things keep them from
        # waiting on the builder: a short switch interval (the builder holds the GIL up to that
        # long each time the event loop lets go of it, at every SQLite call and await); the
        # collector off while the tree grows (it would scan it again and again: pauses of
        # 60 ms), and the new tree frozen before it is back on (one scan of it: 240 ms).
        interval = sys.getswitchinterval()
        sys.setswitchinterval(RELOAD_SWITCH_INTERVAL)
        gc.disable()
        try:
            try:
                engine = await asyncio.to_thread(run_courteously, self.in_flight.quiet, build_engine,
                                                 self.settings.content_dir, self.settings.locales_dir)
            except ContentError as exc:
                errors = [p for p in exc.problems if p.is_error]
                log.error("content reload refused, still serving version=%s errors=%d first=%s",
                          self.runtime.engine.tree.version, len(errors), errors[0] if errors else "-")
                return False
            except Exception as exc:
                log.error("content reload failed, still serving the old content error=%s",
                          type(exc).__name__)
                return False
            # As at start: the tree lives as long as it is served, the collector need not scan it.
            gc.freeze()
        finally:
            sys.setswitchinterval(interval)
            gc.enable()
        previous: list[object] = [self.runtime.engine]
        old = self.runtime.engine.tree.version
        self.runtime.engine = engine
        # The old tree is freed a little at a time, not in one 30-40 ms cascade users wait for.
        self._track(asyncio.create_task(release_gradually(previous)))
        log.info("content reloaded old_version=%s new_version=%s", old, engine.tree.version)
        with contextlib.suppress(Exception):
            await register_commands(self.bot, engine)
        return True

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def request_reload(self) -> None:
        """Reload soon (what SIGHUP does): one reload at a time, the newest request wins.

        Requests that arrive while a reload is being built are folded into one more reload,
        started after them, so ten quick SIGHUPs build at most two trees, and what is served in
        the end is what was on disk at the last request.
        """
        self._reload_wanted = True
        if self._reloader is None:
            self._reloader = asyncio.create_task(self._reload_until_current())
            self._tasks.add(self._reloader)

    async def _reload_until_current(self) -> None:
        try:
            while self._reload_wanted:
                self._reload_wanted = False
                await self.reload()
        finally:
            if self._reloader is not None:
                self._tasks.discard(self._reloader)
            self._reloader = None

    def _on_sighup(self) -> None:
        self.request_reload()

    def request_stop(self) -> None:
        """Ask the service to stop (what SIGINT/SIGTERM do)."""
        self.stop_event.set()

    def _background(self) -> None:
        self._tasks.add(asyncio.create_task(self._every(FLUSH_SECONDS, self._flush)))
        self._tasks.add(asyncio.create_task(self._every(PURGE_SECONDS, self._purge)))

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                log.warning("background job failed job=%s error=%s", job.__name__, type(exc).__name__)

    async def _flush(self) -> None:
        await self.runtime.store.flush_counts()

    async def _purge(self) -> None:
        purged = await self.runtime.store.purge(self.settings.session_ttl_days)
        if purged:
            log.info("purged expired sessions count=%d", purged)

    async def _startup(self) -> None:
        await self.bot.get_me()  # fails fast on a wrong token or an unreachable Bot API
        await register_commands(self.bot, self.runtime.engine)
        self._background()
        log.info("bot ready")

    async def run(self, webhook: bool) -> None:
        """Serve until stopped, then shut down cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_stop)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        try:
            await self._startup()
            if webhook:
                await self._serve_webhook()
            else:
                await self._serve_polling()
        finally:
            await self._shutdown()
            for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)

    async def _serve_polling(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        poller = Poller(self.bot, lambda update: self.updates.feed(self.bot, update),
                        allowed_updates=list(USED_UPDATES),
                        limit=self.settings.max_updates_in_flight)
        polling = asyncio.create_task(poller.run())
        self.ready.set()
        stopper = asyncio.create_task(self.stop_event.wait())
        done, _pending = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            poller.stop()
        await polling
        stopper.cancel()

    async def _serve_webhook(self) -> None:
        settings = self.settings
        if not settings.webhook_url:
            raise SettingsError("webhook mode needs WEBHOOK_URL, the public https address "
                                "Telegram will post updates to")
        if not settings.webhook_secret:
            raise SettingsError("webhook mode needs WEBHOOK_SECRET (1-256 characters: letters, "
                                "digits, _ and -), so only Telegram can post updates")
        # Telegram's updates are small: 1 MB (aiohttp's default) is already generous.
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(settings.webhook_path, self._webhook_handler)
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=WEBHOOK_READ_TIMEOUT)
        await runner.setup()
        loop = asyncio.get_running_loop()
        previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(OutOfFilesLog())
        assert runner.server is not None
        self._guard = ConnectionGuard(runner.server, WEBHOOK_MAX_CONNECTIONS, WEBHOOK_READ_TIMEOUT)
        server = await loop.create_server(self._guard.protocol, settings.webhook_host,
                                          settings.webhook_port, reuse_address=True)
        try:
            await self.bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_secret,
                                       allowed_updates=list(USED_UPDATES))
            log.info("webhook listening host=%s port=%d", settings.webhook_host, settings.webhook_port)
            self.ready.set()
            await self.stop_event.wait()
        finally:
            server.close()
            await runner.cleanup()
            loop.set_exception_handler(previous_handler)

    async def _webhook_handler(self, request: web.Request) -> web.Response:
        guard = self._guard
        if guard is not None:
            guard.request_started(request.transport)
        try:
            return await self._webhook_request(request)
        finally:
            if guard is not None:
                guard.request_done(request.transport)

    async def _webhook_request(self, request: web.Request) -> web.Response:
        # A header that is not UTF-8 arrives with surrogates: compared as bytes, it never matches.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.settings.webhook_secret.encode()):
            return web.Response(status=401, text="Unauthorized")
        try:
            body = await asyncio.wait_for(request.read(), WEBHOOK_READ_TIMEOUT)
        except TimeoutError:
            return web.Response(status=408, text="Request Timeout")
        try:
            update = read_update(json.loads(body))
        except RecursionError:  # nesting no update has
            return web.Response(status=400, text="Bad Request")
        except (Malformed, ValueError):  # not an update the bot can read, or not JSON
            log.warning("ignored malformed webhook update")
            return web.json_response({})
        if not self._recent.first_time(update.update_id):
            # Telegram sends an update again when it thinks the first delivery failed.
            log.info("update type=repeat status=ignored")
            return web.json_response({})
        # Telegram runs a method given as the webhook's answer: a tap is answered there, at
        # once and without a request of its own; the task below knows not to answer it again.
        # Beyond MAX_UPDATES_IN_FLIGHT, Telegram's request waits for a free slot.
        answered = CALLBACK_ANSWERED.set(update.callback_id is not None)
        try:
            await self._webhook_tasks.start(functools.partial(self.updates.feed, self.bot, update))
        finally:
            CALLBACK_ANSWERED.reset(answered)
        if update.callback_id is not None:
            return web.json_response({"method": "answerCallbackQuery",
                                      "callback_query_id": update.callback_id})
        return web.json_response({})

    async def _shutdown(self) -> None:
        # Webhook updates already accepted are finished, not dropped.
        await self._webhook_tasks.drain(DRAIN_SECONDS)
        if not await self.in_flight.wait(DRAIN_SECONDS):
            log.warning("stopping with updates still in flight count=%d", self.in_flight.count)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.runtime.store.close()
        await self.bot.session.close()
        log.info("stopped")


async def serve(settings: Settings, webhook: bool) -> None:
    """Create the service and run it until SIGINT/SIGTERM."""
    service = await BotService.create(settings)
    await service.run(webhook)
