"""English first: compare each translation with English, step by step, and decide what to serve.

A step English has and a translation lacks (or has word for word in English, or translated
before a legal change) is served in English with a notice; a choice English added is shown
with its English label. Only a translation that contradicts English is an error: a choice
English does not have or in another order, other facts, another ending.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from bot.content.model import Choice, ContentTree, Language, Node
from bot.content.problems import Problem
from bot.content.translated_from import step_hash


@dataclass
class Status:
    """What the comparison found: problems, and per language what to serve and how."""

    problems: list[Problem] = field(default_factory=list)
    fallback: dict[str, set[str]] = field(default_factory=dict)  # served in English
    merged: dict[str, dict[str, Node]] = field(default_factory=dict)  # + English-added choices
    stale: dict[str, set[str]] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # language -> why it is not offered


def _is_subsequence(have: list[str], want: list[str]) -> bool:
    it = iter(want)
    return all(target in it for target in have)


def _before_after(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    """Lines showing how the English strings of a step changed."""
    lines: list[str] = []
    for key in sorted(set(before) | set(after), key=lambda k: (k != "title", k != "body", k)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = "button " + key[2:] if key.startswith("->") else key
        if key == "body" and old is not None and new is not None:
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            lines.append("body:")
            lines.extend("  " + d for d in list(diff)[2:] if not d.startswith("@@"))
            continue
        if old is None:
            lines.append(f"{name}: added {new!r}")
        elif new is None:
            lines.append(f"{name}: removed {old!r}")
        else:
            lines.append(f"{name}: before {old!r}")
            lines.append(f"{' ' * len(name)}  after  {new!r}")
    return tuple(lines)


def _strings(node: Node) -> dict[str, str]:
    found = {"title": node.raw_title or node.title, "body": node.body}
    found.update({f"->{c.target}": c.label for c in node.choices})
    return found


def _compare(source: Language, lang: Language, broken: set[str], status: Status) -> None:
    code = lang.code
    found = status.problems
    fallback = status.fallback.setdefault(code, set())
    merged = status.merged.setdefault(code, {})
    stale_ids = status.stale.setdefault(code, set())
    unbumped: dict[str, tuple[Node, int]] = {}
    for name, topic in source.files.items():
        if name not in lang.files:
            found.append(Problem(str(Path(topic.path).parent.parent / code / f"{name}.md"), 0,
                                 f"{code} has no {name}.md yet: its {len(topic.node_ids)} steps are "
                                 "shown in English", f"translate {topic.path}", "warning",
                                 code="W-FILE-UNTRANSLATED"))
            continue
        own_topic = lang.files[name]
        has_records = any(s in lang.records for s in own_topic.node_ids)
        if own_topic.translated_from is not None and own_topic.translated_from > topic.version:
            found.append(Problem(own_topic.path, 1,
                                 f"'translated-from: {own_topic.translated_from}' is newer than the "
                                 f"{source.code} file's version {topic.version}",
                                 "use the English file's version number", code="E-TRANSLATED-FROM"))
        elif (not has_records and own_topic.translated_from is not None
              and own_topic.translated_from < topic.version):
            found.append(Problem(own_topic.path, 1,
                                 f"{code}/{name}.md is out of date with {source.code}: "
                                 f"translated from version {own_topic.translated_from}, "
                                 f"{source.code} is at {topic.version}",
                                 f"update the translation, then run 'kyr-bot translate done {code} "
                                 f"{name}'", "warning", code="W-STALE-FILE"))
    for name, topic in lang.files.items():
        if name not in source.files:
            found.append(Problem(topic.path, 0, f"{name}.md has no {source.code} original",
                                 f"add it to {source.code} first, or remove it",
                                 code="E-FILE-EXTRA"))
    for node_id, node in source.nodes.items():
        other = lang.nodes.get(node_id)
        topic = source.files[node.topic]
        if other is None:
            fallback.add(node_id)
            if node.topic in lang.files:
                found.append(Problem(lang.files[node.topic].path, 0,
                                     f"step '{node_id}' is missing (it is at {node.path}:{node.line}); "
                                     "its users see it in English", "translate that step, keeping "
                                     "the same id", "warning", code="W-STEP-UNTRANSLATED"))
            continue
        if other.topic != node.topic:
            found.append(Problem(other.path, other.line,
                                 f"step '{node_id}' is in {other.topic}.md but in {node.topic}.md "
                                 f"in {source.code}", "move it to the same file", code="E-STEP-FILE"))
        record = lang.records.get(node_id)
        own_file = lang.files.get(other.topic)
        if record is not None:
            stale = record.hash != step_hash(node)
            made_from = record.version
        else:
            made_from = own_file.translated_from or 0 if own_file else 0
            stale = made_from < topic.version
        want = [c.target for c in node.choices]
        have = [c.target for c in other.choices]
        facts_differ = [f.spec() for f in node.facts] != [f.spec() for f in other.facts]
        contradicts = (node.end != other.end or facts_differ or node.input != other.input
                       or not _is_subsequence(have, want))
        if node_id in broken:
            contradicts = False  # the English step has its own error: say it once, there
        elif contradicts and not stale:
            if not _is_subsequence(have, want):
                extra = [t for t in have if t not in want]
                what = (f"has a choice to '{extra[0]}', which {source.code} does not have" if extra
                        else "has its choices in another order than " + source.code)
                found.append(Problem(other.path, other.line, f"step '{node_id}' {what}",
                                     f"use the choices of {node.path}:{node.line}, in that order",
                                     code="E-CHOICES-DIFFER"))
            if facts_differ:
                found.append(Problem(other.path, other.line,
                                     f"facts of '{node_id}' differ from {source.code}",
                                     f"copy the 'fact:' lines from {node.path}:{node.line} as they are",
                                     code="E-FACTS-DIFFER"))
            if node.end != other.end:
                found.append(Problem(other.path, other.line,
                                     f"'end:' of '{node_id}' differs from {source.code}",
                                     f"match {node.path}:{node.line}", code="E-END-DIFFERS"))
            if node.input != other.input:
                found.append(Problem(other.path, other.line,
                                     f"'input:' of '{node_id}' differs from {source.code}",
                                     f"match {node.path}:{node.line}", code="E-INPUT-DIFFERS"))
            continue
        if stale and record is not None:
            stale_ids.add(node_id)
            legal = node.legal_change > made_from
            if record.version == topic.version:
                unbumped.setdefault(node.path, (node, topic.version_line))
            before = {"title": record.title, "body": record.body,
                      **{f"->{t}": label for t, label in record.choices.items()}}
            served = "its users see the English step until it is updated" if (
                legal or contradicts) else "its users still see this translation"
            found.append(Problem(other.path, other.line,
                                 f"step '{node_id}' changed in {source.code} since it was translated"
                                 + (" (a legal change)" if legal else "") + f"; {served}",
                                 f"update it, then run 'kyr-bot translate done {code} {node_id}'",
                                 "warning", code="W-STALE-LEGAL" if legal else "W-STALE-STEP",
                                 detail=_before_after(before, _strings(node))))
            if legal or contradicts:
                fallback.add(node_id)
                continue
        if stale and (node.legal_change > made_from or contradicts):
            stale_ids.add(node_id)
            fallback.add(node_id)  # the file-level warning already names the file
            continue
        if (other.raw_title, other.body) == (node.raw_title, node.body) and (node.body or node.title):
            fallback.add(node_id)
            found.append(Problem(other.path, other.line,
                                 f"step '{node_id}' is the same as in {source.code}, so it counts as "
                                 "not translated", "translate the title and text", "warning",
                                 code="W-STEP-SAME-AS-SOURCE"))
            continue
        missing = [c for c in node.choices if c.target not in have]
        if missing and node_id not in broken:
            labels = {c.target: c for c in other.choices}
            choices = tuple(labels.get(c.target) or Choice(c.label, c.target, other.line)
                            for c in node.choices)
            merged[node_id] = replace(other, choices=choices)
            for choice in missing if node_id not in stale_ids else ():  # already listed
                found.append(Problem(other.path, other.line,
                                     f"step '{node_id}' lacks the choice to '{choice.target}' that "
                                     f"{source.code} added; it is shown with the English label",
                                     f"add '-> [...]({choice.target})' as at {node.path}:{choice.line}",
                                     "warning", code="W-CHOICE-UNTRANSLATED"))
    for node_id, node in lang.nodes.items():
        if node_id not in source.nodes:
            found.append(Problem(node.path, node.line,
                                 f"step '{node_id}' does not exist in {source.code}",
                                 f"add it to {source.code} first, or remove it", code="E-STEP-EXTRA"))
    for path, (node, line) in unbumped.items():
        if not any(p.code == "W-VERSION-NOT-RAISED" and p.path == path for p in found):
            found.append(Problem(path, line, f"the English text changed (for example step '{node.id}') "
                                 "but 'version' was not raised", "raise 'version' by 1",
                                 "warning", code="W-VERSION-NOT-RAISED"))


def compare(tree: ContentTree, broken: set[str], catalogs: set[str]) -> Status:
    """Compare every translation with the source language; ``broken``: source steps with errors."""
    status = Status()
    source = tree.languages.get(tree.source_language)
    if source is None:
        return status
    for lang in tree.translations:
        code = lang.code
        _compare(source, lang, broken, status)
        folder = str(Path(tree.root) / code)
        if tree.start in status.fallback.get(code, ()):
            status.hidden[code] = f"its '{tree.start}' step (the main menu) is not translated yet"
        elif code not in catalogs:
            status.hidden[code] = (f"it has no interface catalog (run 'kyr-bot catalogs add "
                                   f"{code}')")
        if code in status.hidden:
            status.problems.append(Problem(folder, 0, f"{code} is not offered to users: "
                                           + status.hidden[code], "until then they get "
                                           + tree.source_language, "warning",
                                           code="W-LANGUAGE-HIDDEN"))
    return status


def served(tree: ContentTree, status: Status) -> ContentTree:
    """The tree the engine serves: hidden languages dropped, missing steps filled from English."""
    source = tree.languages[tree.source_language]
    languages: dict[str, Language] = {}
    for code, lang in tree.languages.items():
        if code in status.hidden:
            continue
        if lang is source:
            languages[code] = lang
            continue
        fallback = status.fallback.get(code, set())
        merged = status.merged.get(code, {})
        nodes = {
            node_id: node if node_id in fallback else merged.get(node_id, lang.nodes[node_id])
            for node_id, node in source.nodes.items()
        }
        files = {name: lang.files.get(name, topic) for name, topic in source.files.items()}
        languages[code] = replace(lang, files=MappingProxyType(files),
                                  nodes=MappingProxyType(nodes))
    fallbacks = {code: frozenset(ids) for code, ids in status.fallback.items()
                 if code in languages}
    return replace(tree, languages=MappingProxyType(languages),
                   fallback=MappingProxyType(fallbacks))
