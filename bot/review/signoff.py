"""Record a lawyer's sign-off in the front matter of every language of one topic.

Only the ``reviewed`` and ``reviewer`` lines change (added before the closing ``---`` when
missing), plus ``review-by`` when one is given or already present (a stale expiry date would
make the new review look expired), and ``review: needed`` becomes ``review: done``: the marker
asks a lawyer to confirm what the file rests on, and the signature is that confirmation. Every
other byte, line endings included, stays as it was.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

_KEY = re.compile(r"^([A-Za-z-]+)\s*:")


class SignError(ValueError):
    """The sign-off cannot be recorded; the message says why and nothing was written."""


def _newline(lines: list[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith("\n"):
            return "\n"
    return "\n"


def set_front_matter(text: str, values: dict[str, str]) -> str:
    """``text`` with each key's front-matter line set to its value; nothing else changes."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SignError("the file does not start with a front matter block ('---')")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise SignError("the front matter block is never closed")
    newline = _newline(lines)
    todo = dict(values)
    for i in range(1, end):
        m = _KEY.match(lines[i])
        key = m.group(1).lower() if m else ""
        if key in todo:
            ending = lines[i][len(lines[i].rstrip("\r\n")):] or newline
            value = todo.pop(key)
            lines[i] = f"{m.group(1)}: {value}".rstrip() + ending  # type: ignore[union-attr]
    lines[end:end] = [f"{key}: {value}".rstrip() + newline for key, value in todo.items()]
    return "".join(lines)


def sign_topic(content_dir: Path, topic: str, reviewer: str, day: date,
               review_by: date | None = None, source_language: str = "en") -> list[Path]:
    """Write the sign-off into ``<lang>/<topic>.md`` for every language; return the files changed."""
    reviewer = reviewer.strip()
    if not reviewer or "\n" in reviewer or "\r" in reviewer:
        raise SignError("give the reviewer on one line: --reviewer \"A. Lawyer, Example Legal Aid\"")
    if review_by is not None and review_by <= day:
        raise SignError(f"review-by {review_by} must be after the review date {day}")
    if not (content_dir / source_language / f"{topic}.md").is_file():
        known = sorted(p.stem for p in (content_dir / source_language).glob("*.md"))
        raise SignError(f"there is no topic '{topic}' in {content_dir / source_language}; "
                        f"topics: {', '.join(known) or 'none'}")
    planned: list[tuple[Path, bytes]] = []
    for lang_dir in sorted(p for p in content_dir.iterdir() if p.is_dir()):
        path = lang_dir / f"{topic}.md"
        if not path.is_file():
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignError(f"{path} is not UTF-8 text: {exc}") from exc
        values = {"reviewed": day.isoformat(), "reviewer": reviewer}
        front = text.split("\n---", 1)[0]
        has_expiry = re.search(r"^review-by\s*:", front, re.MULTILINE | re.IGNORECASE)
        if re.search(r"^review\s*:\s*needed\s*$", front, re.MULTILINE | re.IGNORECASE):
            values["review"] = "done"
        if review_by is not None or has_expiry:
            values["review-by"] = review_by.isoformat() if review_by else ""
        try:
            planned.append((path, set_front_matter(text, values).encode("utf-8")))
        except SignError as exc:
            raise SignError(f"{path}: {exc}") from exc
    # Every file is prepared before any is written, so a bad file leaves the others untouched.
    for path, data in planned:
        tmp = path.with_name(path.name + ".signing")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return [path for path, _data in planned]
