"""One anonymous session's place in the guide: language, step, trail for Back, facts, version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.content.model import Fact

MAX_TRAIL = 30  # steps remembered for Back; older ones are dropped
# Telegram lets a bot delete a message for 48 hours; a minute's margin for clocks and rounding.
DELETABLE_MINUTES = 48 * 60 - 2
MAX_MESSAGES = 300  # message ids remembered for /forget; older ones are dropped
Facts = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class State:
    """Where one anonymous session is: language, node, trail for Back, facts, content version.

    ``aside`` names a screen shown over the step (help, privacy, search results...), so Back
    returns to the step itself. ``messages`` holds the ids of this chat's messages the bot may
    still delete on /forget, each with the minute it was sent: ids are per-chat counters that
    identify no one. ``older`` counts messages dropped from that list (too old, or over the bound).
    """

    lang: str
    node: str = "start"
    trail: tuple[tuple[str, Facts], ...] = ()
    facts: Facts = ()
    version: str = ""
    aside: str = ""
    messages: tuple[tuple[int, int], ...] = ()
    older: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store."""
        data: dict[str, Any] = {
            "lang": self.lang, "node": self.node, "version": self.version,
            "trail": [[node, [list(f) for f in facts]] for node, facts in self.trail],
            "facts": [list(f) for f in self.facts],
        }
        # Only when set, so the common session stays as small as before.
        if self.aside:
            data["aside"] = self.aside
        if self.messages:
            data["messages"] = [list(m) for m in self.messages]
        if self.older:
            data["older"] = self.older
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Rebuild a state saved with :meth:`to_dict`; raises ValueError if it is malformed."""
        try:
            return cls(
                lang=str(data["lang"]), node=str(data.get("node", "start")),
                version=str(data.get("version", "")),
                trail=tuple((str(n), _facts(f)) for n, f in data.get("trail", ())),
                facts=_facts(data.get("facts", ())),
                aside=str(data.get("aside", "")),
                messages=tuple((int(i), int(t)) for i, t in data.get("messages", ())),
                older=int(data.get("older", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed session state: {exc}") from exc

    def with_messages(self, ids: list[int], minute: int) -> State:
        """Remember message ids sent or received at ``minute``; forget those too old to delete."""
        if not ids and not self.messages:
            return self
        fresh = [m for m in self.messages if minute - m[1] < DELETABLE_MINUTES]
        aged = len(self.messages) - len(fresh)
        known = {m[0] for m in fresh}
        fresh += [(i, minute) for i in dict.fromkeys(ids) if i not in known]
        over = max(0, len(fresh) - MAX_MESSAGES)
        return replace(self, messages=tuple(fresh[over:]), older=self.older + aged + over)

    def deletable(self, minute: int) -> tuple[list[int], int]:
        """Ids Telegram still lets the bot delete at ``minute``, and how many it no longer does."""
        ids = [i for i, sent in self.messages if minute - sent < DELETABLE_MINUTES]
        return ids, self.older + len(self.messages) - len(ids)


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
