"""Anonymous aggregate counts as a table for the organisation: what people reach, where they stop."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

# A search that found nothing is counted under this pseudo-step, which no step id can be
# (ids hold only a-z, 0-9 and '-'): one count per day and language, nothing of what was typed.
SEARCH_MISS_NODE = "*search"
SEARCH_MISS_EVENT = "no-match"
SMALL = 5  # counts below this are shown as "<5" so no single person stands out


def shown(count: int) -> str:
    """A count as printed: small counts are hidden."""
    return f"<{SMALL}" if count < SMALL else str(count)


def format_stats(rows: Iterable[tuple[date, str, str, str, int]]) -> str:
    """A table with one line per day, language and step: views and stops."""
    table: dict[tuple[date, str, str], dict[str, int]] = defaultdict(lambda: {"view": 0, "stop": 0})
    misses: dict[tuple[date, str], int] = defaultdict(int)
    for day, lang, node, event, count in rows:
        if event == SEARCH_MISS_EVENT:
            misses[(day, lang)] += count
            continue
        table[(day, lang, node)][event] = table[(day, lang, node)].get(event, 0) + count
    if not table and not misses:
        return "no counts yet"
    header = f"{'day':<10}  {'lang':<4}  {'step':<28}  {'reached':>7}  {'stopped':>7}"
    lines = [header, "-" * len(header)]
    for (day, lang, node), counts in sorted(table.items()):
        lines.append(f"{day.isoformat():<10}  {lang:<4}  {node:<28}  {shown(counts['view']):>7}  "
                     f"{shown(counts['stop']):>7}")
    totals: dict[str, int] = defaultdict(int)
    for (_day, lang, _node), counts in table.items():
        totals[lang] += counts["view"]
    lines.append("")
    lines.append("steps reached per language: " + ", ".join(
        f"{lang} {shown(n)}" for lang, n in sorted(totals.items())))
    if misses:
        # Tells maintainers where search words are missing (see content/<lang>/search-words.md).
        lines += ["", "searches that found nothing (words are never kept):"]
        lines += [f"{day.isoformat():<10}  {lang:<4}  {shown(n):>7}"
                  for (day, lang), n in sorted(misses.items())]
    return "\n".join(lines)
