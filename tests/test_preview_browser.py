"""The preview site in a real browser: follow the map to a step and back, screenshots, axe-core."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.content.loader import load_tree
from bot.preview.site import build_site
from bot.review.packet import write_packets
from bot.review.policy import ReviewPolicy
from browser import assert_not_blank, axe_source, axe_violations, browser_paths, chromium
from helpers import CONTENT, LOCALES

MAP_MODES = ["builtin", "dot"] if shutil.which("dot") else ["builtin"]


def _wait_for(driver: object, suffix: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(lambda d: d.current_url.split("#")[0].endswith(suffix))  # type: ignore[attr-defined]


@pytest.mark.parametrize("map_mode", MAP_MODES)
def test_map_to_step_and_back_with_screenshots(tmp_path: Path, map_mode: str) -> None:
    from selenium.webdriver.common.by import By

    browser_paths()
    out = tmp_path / "site"
    build_site(CONTENT, LOCALES, out, "kyr_test_bot", map_mode, date(2026, 11, 29))  # type: ignore[arg-type]
    with chromium(tmp_path / "profile") as driver:
        driver.get((out / "index.html").as_uri())  # type: ignore[attr-defined]
        assert driver.find_element(By.CSS_SELECTOR, "svg.treemap").is_displayed()  # type: ignore[attr-defined]
        driver.save_screenshot(str(tmp_path / "index.png"))  # type: ignore[attr-defined]
        assert_not_blank(tmp_path / "index.png")

        # A box on the map is a link (href, or xlink:href from Graphviz): click its text.
        box = driver.find_element(  # type: ignore[attr-defined]
            By.CSS_SELECTOR, 'svg.treemap a[*|href="steps/tc-start.html"] text')
        driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", box)  # type: ignore[attr-defined]
        box.click()
        _wait_for(driver, "/steps/tc-start.html")
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("tc-start")  # type: ignore[attr-defined]
        columns = driver.find_elements(By.CSS_SELECTOR, "section.lang-col")  # type: ignore[attr-defined]
        assert [c.get_attribute("aria-labelledby") for c in columns] == ["h-en", "h-es", "h-fr"]
        assert all(c.find_element(By.CSS_SELECTOR, ".bubble").text.strip() for c in columns)
        driver.save_screenshot(str(tmp_path / "step.png"))  # type: ignore[attr-defined]
        assert_not_blank(tmp_path / "step.png")

        # A button in the Spanish screen leads to the next step, as in the bot.
        spanish = columns[1].find_element(By.CSS_SELECTOR, "a.key-choice")
        target = spanish.get_attribute("href").rsplit("/", 1)[-1]
        spanish.click()
        _wait_for(driver, f"/steps/{target}")

        driver.find_element(By.ID, "back-to-map").click()  # type: ignore[attr-defined]
        _wait_for(driver, "/index.html")
        assert driver.current_url.endswith("#map")  # type: ignore[attr-defined]
        assert driver.find_element(By.CSS_SELECTOR, "svg.treemap").is_displayed()  # type: ignore[attr-defined]


def test_pages_pass_axe_core(tmp_path: Path) -> None:
    browser_paths()
    source = axe_source()
    out = tmp_path / "site"
    build_site(CONTENT, LOCALES, out, "kyr_test_bot", "auto", date(2026, 11, 29))
    tree, _problems = load_tree(CONTENT)
    write_packets(tree, out / "packets", None, ReviewPolicy(), date(2026, 11, 29), "third-country")
    pages = ["index.html", "steps/start.html", "steps/tc-fear-yes.html", "topics/third-country.html",
             "packets/review-third-country.html"]
    found = {}
    with chromium(tmp_path / "profile") as driver:
        for page in pages:
            driver.get((out / page).as_uri())  # type: ignore[attr-defined]
            found[page] = axe_violations(driver, source)
        # The same run finds what it should on a page built to fail (so a pass above means something).
        bad = tmp_path / "bad.html"
        bad.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><main>'
                       '<img src="qr.png"><p style="color:#bbb;background:#fff">faint</p>'
                       '</main></body></html>')
        driver.get(bad.as_uri())  # type: ignore[attr-defined]
        assert {"image-alt", "color-contrast", "html-has-lang"} <= {
            str(v["id"]) for v in axe_violations(driver, source)}
    assert found == {page: [] for page in pages}
