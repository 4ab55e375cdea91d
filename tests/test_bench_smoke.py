"""The benchmark scripts run end to end at tiny sizes, so the figures they print come from working code."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_run_py_compares_kyr_bot_with_both_baselines() -> None:
    out = _run("bench/run.py", "--transport", "polling", "--users", "20", "--seconds", "0.5",
               "--paced-seconds", "0", "--repeat", "1")
    assert "each bot on core" in out or "share the cores" in out
    for line in ("updates/s kyr-bot / stock aiogram >= 1.5", "updates/s kyr-bot / tuned bare >= 1.0",
                 "peak RSS of kyr-bot < 120 MB"):
        assert line in out, out
    assert "fake server violations or bot crashes: 0" in out


def test_memory_py_reports_a_peak() -> None:
    out = _run("bench/memory.py", "--users", "300")
    assert "peak" in out.lower(), out


def test_reload_py_and_purge_py_print_their_targets() -> None:
    out = _run("bench/reload.py", "--nodes", "300", "--users", "20", "--seconds", "1")
    assert "p99 reloading / normal" in out and "reloads completed" in out, out
    out = _run("bench/purge.py", "--expired", "2000", "--live", "100", "--repeat", "1")
    assert "deleted" in out and "now" in out, out
