"""Limits on the webhook's connections: how many may be open, and how long one may stay silent.

aiohttp's server has neither: a client that opens connections and sends nothing, or sends its
request a byte at a time, holds a file descriptor each until the process runs out. Here a new
connection beyond ``max_open`` is closed at once, and a connection whose request has not
arrived within ``read_timeout`` (from its opening, or from the end of its previous request)
is closed. Running out of file descriptors anyway is logged once per ``interval``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("kyr_bot.webhook")

_OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ConnectionGuard:
    """Wraps the web server's protocol factory with a connection bound and a read deadline."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], max_open: int,
                 read_timeout: float) -> None:
        self._factory = factory
        self.max_open = max_open
        self.read_timeout = read_timeout
        self.open = 0
        self.refused = 0
        self._guards: dict[Any, _Guarded] = {}

    def protocol(self) -> asyncio.Protocol:
        """A protocol for one new connection (what ``loop.create_server`` asks for)."""
        return _Guarded(self, self._factory())

    def request_started(self, transport: Any) -> None:
        """A request's headers arrived: its handler reads the body under its own deadline."""
        guard = self._guards.get(transport)
        if guard is not None:
            guard.disarm()

    def request_done(self, transport: Any) -> None:
        """The answer is sent: the next request on this connection has ``read_timeout``."""
        guard = self._guards.get(transport)
        if guard is not None:
            guard.arm()


class _Guarded(asyncio.Protocol):
    """Delegates to aiohttp's request handler; closes the connection when over a limit."""

    def __init__(self, owner: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._owner = owner
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        owner = self._owner
        if owner.open >= owner.max_open:
            owner.refused += 1
            transport.abort()  # type: ignore[attr-defined]
            return
        owner.open += 1
        self._counted = True
        self._transport = transport  # type: ignore[assignment]
        owner._guards[transport] = self
        self.arm()
        self._inner.connection_made(transport)

    def arm(self) -> None:
        self.disarm()
        self._timer = asyncio.get_running_loop().call_later(self._owner.read_timeout, self._expire)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        if not self._counted:
            return
        self._counted = False
        self._owner.open -= 1
        self._owner._guards.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class OutOfFilesLog:
    """An event-loop exception handler that logs running out of file descriptors once per
    ``interval`` (asyncio would log it, with a traceback, on every failed accept)."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last = float("-inf")
        self.suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FILES:
            now = self._clock()
            if now - self._last >= self.interval:
                log.error("out of file descriptors (%s) repeated=%d: raise the limit (LimitNOFILE, "
                          "ulimit -n) or lower the connections a proxy opens",
                          errno.errorcode.get(exc.errno or 0, "?"), self.suppressed)
                self._last = now
                self.suppressed = 0
            else:
                self.suppressed += 1
            return
        loop.default_exception_handler(context)
