"""A reload's builder steps aside while updates are in flight, and still finishes under load."""

from __future__ import annotations

import threading

from bot.telegram.courtesy import run_courteously
from bot.telegram.handlers import InFlight


def _work(steps: list[int], count: int) -> int:
    for i in range(count):
        steps.append(i)  # a Python call per step: each one a point where the builder may wait
    return len(steps)


def _count(steps: list[int], count: int) -> int:
    return _work(steps, count)


def test_the_builder_waits_while_an_update_is_in_flight_and_goes_on_after() -> None:
    in_flight = InFlight()
    in_flight.enter()  # an update is being handled
    steps: list[int] = []
    result: list[int] = []
    builder = threading.Thread(target=lambda: result.append(
        run_courteously(in_flight.quiet, _count, steps, 1000, max_wait=60.0)))
    builder.start()
    builder.join(0.3)
    assert builder.is_alive() and steps == []  # it stepped aside at its first call
    in_flight.leave()  # the update is done: the builder goes on
    builder.join(30)
    assert result == [1000] and not builder.is_alive()


def test_a_bot_that_is_never_idle_still_gets_its_reload() -> None:
    quiet = threading.Event()  # never set: updates always in flight
    steps: list[int] = []
    assert run_courteously(quiet, _count, steps, 50, max_wait=0.001, min_run=0.0) == 50
