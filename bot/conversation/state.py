"""One anonymous session's place in the guide: language, step, trail for Back, facts, version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.content.model import Fact

MAX_TRAIL = 30  # steps remembered for Back; older ones are dropped
Facts = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class State:
    """Where one anonymous session is: language, node, trail for Back, facts, content version."""

    lang: str
    node: str = "start"
    trail: tuple[tuple[str, Facts], ...] = ()
    facts: Facts = ()
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store."""
        return {
            "lang": self.lang, "node": self.node, "version": self.version,
            "trail": [[node, [list(f) for f in facts]] for node, facts in self.trail],
            "facts": [list(f) for f in self.facts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Rebuild a state saved with :meth:`to_dict`; raises ValueError if it is malformed."""
        try:
            return cls(
                lang=str(data["lang"]), node=str(data.get("node", "start")),
                version=str(data.get("version", "")),
                trail=tuple((str(n), _facts(f)) for n, f in data.get("trail", ())),
                facts=_facts(data.get("facts", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed session state: {exc}") from exc


def _facts(raw: Any) -> Facts:
    return tuple((str(k), str(v)) for k, v in raw)


def apply_facts(facts: Facts, new: tuple[Fact, ...]) -> Facts:
    """Record a node's facts: ``key=value`` replaces, ``key+=value`` adds to a list."""
    result = list(facts)
    for fact in new:
        pair = (fact.key, fact.value)
        if fact.op == "=":
            result = [f for f in result if f[0] != fact.key]
            result.append(pair)
        elif pair not in result:
            result.append(pair)
    return tuple(result)
