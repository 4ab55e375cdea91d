"""Deep links to a topic and their QR codes (SVG for print, PNG for everything else)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import segno

# Telegram's /start payload: at most 64 characters from A-Z, a-z, 0-9, _ and -.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
PLACEHOLDER_BOT = "YOUR_BOT"


@dataclass(frozen=True, slots=True)
class DeepLink:
    """A t.me link opening one topic in one language, and where its QR code files are."""

    lang: str
    topic: str
    payload: str
    url: str
    svg: str  # file name under qr/
    png: str


def valid_username(name: str) -> bool:
    """True for a Telegram bot username as BotFather allows it (5-32 characters)."""
    return bool(_USERNAME.match(name))


def deep_link(bot: str, lang: str, topic: str) -> DeepLink:
    """``https://t.me/<bot>?start=<lang>-<topic>``, the payload the engine resolves to the topic."""
    payload = f"{lang}-{topic}"
    if not _PAYLOAD.match(payload):
        raise ValueError(f"{payload!r} cannot be a Telegram start payload (A-Z, 0-9, _ and -, 64 at most)")
    return DeepLink(lang, topic, payload, f"https://t.me/{bot}?start={payload}",
                    f"{payload}.svg", f"{payload}.png")


def write_qr(link: DeepLink, folder: Path) -> tuple[Path, Path]:
    """Write the link's QR code as SVG and PNG into ``folder``; return both paths."""
    code = segno.make(link.url, error="m")  # 15% of the code can be damaged and still scan
    folder.mkdir(parents=True, exist_ok=True)
    svg, png = folder / link.svg, folder / link.png
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=8, border=4, title=f"QR code for {link.url}", svgclass="qr")
    svg.write_bytes(buffer.getvalue())
    code.save(str(png), kind="png", scale=10, border=4)  # about 3 cm at 300 dpi for a short link
    return svg, png
