"""Headless Chromium for tests (Debian's chromium + chromium-driver) and axe-core for accessibility."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from helpers import ROOT

AXE_VERSION = "4.11.0"
AXE_CACHE = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
# The flags this machine needs: no sandbox as root, no GPU, and nothing reaching the network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900")


def _missing(what: str) -> None:
    message = f"{what} (.ci/run installs it; or: apt-get install chromium chromium-driver)"
    if os.environ.get("KYR_REQUIRE_BROWSER"):
        pytest.fail(message)  # in CI the browser test must run, never be skipped
    pytest.skip(message)


def browser_paths() -> tuple[str, str]:
    """The Chromium binary and chromedriver, or skip (fail under KYR_REQUIRE_BROWSER)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        _missing("Chromium or chromedriver is not installed")
    return str(chromium), str(driver)


@contextmanager
def chromium(profile: Path) -> Iterator[object]:
    """A Selenium-driven headless Chromium with a fresh profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = browser_paths()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look anything up
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def axe_source() -> str:
    """axe.min.js from the axe-core npm package, fetched once with ``npm pack`` into .cache/."""
    given = os.environ.get("KYR_AXE_JS")
    path = Path(given) if given else AXE_CACHE
    if not path.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _missing("npm is not installed, so axe-core cannot be fetched")
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(npm), "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination",
                        str(path.parent)], check=True, capture_output=True, timeout=300)
        with tarfile.open(path.parent / f"axe-core-{AXE_VERSION}.tgz") as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            path.write_bytes(member.read())
    return path.read_text(encoding="utf-8")


AXE_RUN = """
const done = arguments[arguments.length - 1];
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
axe.run(document, {runOnly: {type: 'tag', values: tags}})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
  .catch(e => done([{id: 'axe-error', help: String(e)}]));
"""


def axe_violations(driver: object, source: str) -> list[dict[str, object]]:
    """Run axe-core in the page open in ``driver``; every violation found."""
    driver.execute_script(source)  # type: ignore[attr-defined]
    return list(driver.execute_async_script(AXE_RUN))  # type: ignore[attr-defined]


def assert_not_blank(png: Path) -> None:
    """A screenshot with real content: varied pixels, many colours, dark text on it."""
    image = Image.open(png).convert("RGB")
    grey = image.convert("L")
    assert ImageStat.Stat(grey).stddev[0] > 20, f"{png} looks blank (almost one colour)"
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, f"{png} has only {len(colours)} colours"
    dark = sum(count for count, value in grey.getcolors(256) or [] if value < 80)
    assert dark > 0.002 * grey.width * grey.height, f"{png} has almost no dark (text) pixels"
