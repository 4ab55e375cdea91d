"""Which English text each translated step was made from: a hidden sidecar per language folder.

``content/<lang>/.translated-from.json`` maps a step id to a short hash of the English step, the
English file's version and a copy of the English strings, recorded when the translation of that
step is marked done (``kyr-bot translate import`` or ``kyr-bot translate done``). Translators
never edit it. With it the checker names exactly which steps changed in English since they were
translated, shows the English before and after without needing git, and notices an English
edit whose ``version`` was not raised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.content.model import ContentTree, Node, Record
from bot.content.problems import Problem

SIDECAR = ".translated-from.json"


def strings(node: Node) -> dict[str, str]:
    """The translatable strings of a step: title, body and each button label by target."""
    found = {"title": node.raw_title or node.title, "body": node.body}
    found.update({f"->{c.target}": c.label for c in node.choices})
    return found


def step_hash(node: Node) -> str:
    """A short hash of everything in an English step a translation must follow."""
    payload = json.dumps([node.raw_title or node.title, node.body,
                          [[c.target, c.label] for c in node.choices],
                          [f.spec() for f in node.facts], node.end], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:10]


def record_for(node: Node, version: int) -> Record:
    """The record that marks a translation as made from ``node`` at file ``version``."""
    return Record(step_hash(node), version, node.raw_title or node.title, node.body,
                  {c.target: c.label for c in node.choices})


def read(lang_dir: Path, problems: list[Problem]) -> dict[str, Record]:
    """The records of one language folder (empty when it has no sidecar yet)."""
    path = lang_dir / SIDECAR
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        return {
            str(step): Record(str(r["hash"]), int(r["version"]), str(r.get("title", "")),
                              str(r.get("body", "")),
                              {str(k): str(v) for k, v in dict(r.get("choices", {})).items()})
            for step, r in dict(raw).items()
        }
    except (OSError, ValueError, TypeError, KeyError) as exc:
        problems.append(Problem(str(path), 0, f"cannot read the translation records: {exc}",
                                f"restore it from git, or run 'kyr-bot translate done "
                                f"{lang_dir.name} --all' after checking every step",
                                "warning", code="W-RECORDS-UNREADABLE"))
        return {}


def write(lang_dir: Path, records: Mapping[str, Record]) -> Path:
    """Save the records of one language folder, sorted so diffs stay small."""
    path = lang_dir / SIDECAR
    data = {
        step: {"hash": r.hash, "version": r.version, "title": r.title, "body": r.body,
               "choices": dict(r.choices)}
        for step, r in sorted(records.items())
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def mark_done(root: Path, tree: ContentTree, lang: str, steps: Iterable[str]) -> list[str]:
    """Record that ``steps`` of ``lang`` now follow today's English; return the ids recorded.

    Also sets ``translated-from`` in each touched file once all its steps are current, so
    nobody edits version numbers by hand.
    """
    source = tree.languages[tree.source_language]
    language = tree.languages[lang]
    lang_dir = root / lang
    records = read(lang_dir, [])
    done: list[str] = []
    for step in steps:
        english = source.nodes.get(step)
        if english is None or step not in language.nodes:
            continue
        records[step] = record_for(english, source.files[english.topic].version)
        done.append(step)
    write(lang_dir, records)
    for name in {source.nodes[s].topic for s in done}:
        english_file = source.files[name]
        current = all(s in records and records[s].hash == step_hash(source.nodes[s])
                      for s in english_file.node_ids if s in language.nodes)
        if current and name in language.files:
            set_translated_from(lang_dir / f"{name}.md", english_file.version)
    return done


def set_translated_from(path: Path, version: int) -> None:
    """Write ``translated-from: version`` into a translation's front matter."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.split("\n")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return
    for i in range(1, end):
        if lines[i].split(":", 1)[0].strip().lower() == "translated-from":
            lines[i] = f"translated-from: {version}"
            break
    else:
        lines.insert(end, f"translated-from: {version}")
    path.write_text("\n".join(lines), encoding="utf-8")
