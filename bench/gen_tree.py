"""Generate a synthetic, valid content tree (content/README.md format) for benchmarks.

The tree has ``nodes`` steps in each of ``languages`` (same ids, choices, facts and endings in
every language), grouped in topic files of ``per_file`` steps. Step ``i`` leads to steps
``3i+1 .. 3i+3`` (so every step is reachable from ``start``) plus, sometimes, one cross-link;
steps without children are endings (``end: yes``).

CLI: ``python bench/gen_tree.py [--nodes 5000] [--out DIR] [--seed 1]``; prints the folder.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

BRANCHING = 3
LANGUAGES = ("en", "es", "fr")
_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("judge", "lawyer", "asylum", "court", "hearing", "country", "fear", "detained", "family",
           "interpreter", "deadline", "motion", "appeal", "rights", "papers", "notice", "officer",
           "border", "removal", "protection", "evidence", "witness", "letter", "office", "children"),
    "es": ("juez", "abogado", "asilo", "corte", "audiencia", "país", "miedo", "detenido", "familia",
           "intérprete", "plazo", "moción", "apelación", "derechos", "papeles", "aviso", "oficial",
           "frontera", "expulsión", "protección", "pruebas", "testigo", "carta", "oficina", "niños"),
    "fr": ("juge", "avocat", "asile", "tribunal", "audience", "pays", "peur", "détenu", "famille",
           "interprète", "délai", "requête", "appel", "droits", "papiers", "avis", "agent",
           "frontière", "expulsion", "protection", "preuves", "témoin", "lettre", "bureau", "enfants"),
}
_LEAD = {"en": "About", "es": "Sobre", "fr": "À propos de"}
_FACTS = ("who=self", "who=relative", "detained=yes", "detained=no", "fear=yes", "fear=unsure",
          "country=honduras", "country=uganda", "motion=pretermit", "arrival=under-1-year",
          "hearing=scheduled", "ground+=religion", "ground+=political-opinion")


@dataclass(frozen=True)
class _Step:
    """One step's structure, shared by every language."""

    index: int
    id: str
    targets: tuple[int, ...]
    facts: tuple[str, ...]
    end: bool


def _step_id(index: int) -> str:
    return "start" if index == 0 else f"s{index:05d}"


def _structure(nodes: int, rng: random.Random) -> list[_Step]:
    steps: list[_Step] = []
    for i in range(nodes):
        children = [c for c in range(BRANCHING * i + 1, BRANCHING * i + BRANCHING + 1) if c < nodes]
        if children and rng.random() < 0.25:
            extra = rng.randrange(nodes)
            if extra != i and extra not in children:
                children.append(extra)
        facts = tuple(rng.sample(_FACTS, k=rng.choice((1, 2)))) if i and rng.random() < 0.2 else ()
        end = not children or rng.random() < 0.05
        steps.append(_Step(i, _step_id(i), tuple(children), facts, end))
    return steps


def _words(lang: str, rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS[lang]) for _ in range(count))


def _title(lang: str, index: int) -> str:
    vocab = _WORDS[lang]
    return f"{_LEAD[lang]} {vocab[index % len(vocab)]} {vocab[(index // 7) % len(vocab)]} {index}"


def _body(lang: str, index: int) -> list[str]:
    rng = random.Random(f"{lang}:{index}")
    return [
        f"{_words(lang, rng, 14).capitalize()} **{_words(lang, rng, 2)}** {_words(lang, rng, 10)}.",
        f"{_words(lang, rng, 12).capitalize()} *{_words(lang, rng, 2)}*, "
        f"[{_words(lang, rng, 2)}](https://example.org/{lang}/{index}).",
        "",
        f"- {_words(lang, rng, 6)}",
        f"- {_words(lang, rng, 5)}",
        "",
        f"{_words(lang, rng, 18).capitalize()}?",
    ]


def _render_step(step: _Step, lang: str) -> list[str]:
    lines = [f"## {step.id} | {_title(lang, step.index)}", ""]
    lines += [f"fact: {fact}" for fact in step.facts]
    if step.end:
        lines.append("end: yes")
    if step.facts or step.end:
        lines.append("")
    lines += _body(lang, step.index)
    if step.targets:
        lines.append("")
        lines += [f"-> [{_title(lang, t)[:60]}]({_step_id(t)})" for t in step.targets]
    lines.append("")
    return lines


def _front_matter(lang: str, topic: str, source: str) -> list[str]:
    lines = ["---", f"title: {_LEAD[lang]} {topic}", "version: 2" if lang == source else "version: 1"]
    if lang != source:
        lines.append("translated-from: 2")
    lines += ["reviewed: 2026-11-01", "reviewer: Benchmark generator", "sources:",
              "  - Synthetic text for benchmarks", "---", ""]
    return lines


def generate_tree(dest: Path | None = None, nodes: int = 5000, languages: tuple[str, ...] = LANGUAGES,
                  seed: int = 1, per_file: int = 50) -> Path:
    """Write the tree under ``dest`` (a new temp folder when None) and return that folder."""
    if nodes < 1:
        raise ValueError("nodes must be at least 1")
    root = Path(tempfile.mkdtemp(prefix="kyr-gen-")) if dest is None else dest
    steps = _structure(nodes, random.Random(seed))
    files = [("start", steps[:1])]
    files += [(f"topic-{k:04d}", steps[start:start + per_file])
              for k, start in enumerate(range(1, nodes, per_file))]
    for lang in languages:
        folder = root / lang
        folder.mkdir(parents=True, exist_ok=True)
        for name, chunk in files:
            lines = _front_matter(lang, name, languages[0])
            for step in chunk:
                lines += _render_step(step, lang)
            (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=5000, help="steps per language (default 5000)")
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(generate_tree(args.out, args.nodes, seed=args.seed))


if __name__ == "__main__":
    main()
