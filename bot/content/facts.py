"""The lawyer summary's fact vocabulary, declared once: every key, its values, its old values.

Content files record facts with ``fact: key=value`` (or ``key+=value`` for a list). The checker
refuses a key or value not declared here, the lawyer summary renders only these, and a session
saved under an older vocabulary is read through ``legacy`` so its summary stays correct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal


@dataclass(frozen=True, slots=True)
class FactSpec:
    """One fact key: the values content may record, and how older values read today."""

    key: str
    values: tuple[str, ...]
    multi: bool = False  # recorded with ``+=``: the person may choose several values
    legacy: Mapping[str, str] = field(default_factory=dict)  # value in old sessions -> value now


def _specs(*specs: FactSpec) -> Mapping[str, FactSpec]:
    return MappingProxyType({spec.key: spec for spec in specs})


FACTS: Mapping[str, FactSpec] = _specs(
    FactSpec("who", ("self", "relative")),
    FactSpec("detained", ("yes", "no", "unknown")),
    # Until content v2, "aca" meant the motion to pretermit, and "dismiss" covered both motions.
    FactSpec("motion", ("pretermit", "dismiss-case", "unknown"),
             legacy={"aca": "pretermit", "dismiss": "pretermit-or-dismiss"}),
    FactSpec("country", ("guatemala", "honduras", "ecuador", "uganda", "el-salvador", "mexico",
                         "paraguay", "rwanda", "eswatini", "south-sudan", "costa-rica", "panama",
                         "kosovo", "other", "unknown")),
    FactSpec("fear", ("yes", "no", "unsure")),
    FactSpec("ground", ("race", "religion", "nationality", "social-group", "political-opinion"),
             multi=True),
    FactSpec("arrival", ("under-1-year", "over-1-year", "unknown")),
    FactSpec("hearing", ("scheduled", "unknown")),
    # Content v2: who an Asylum Cooperative Agreement may not reach, and the after-order path.
    FactSpec("entry", ("before-2019-11-19", "after-2019-11-19", "unknown")),
    FactSpec("alone", ("yes", "no", "unknown")),
    FactSpec("order", ("final",)),
)


# A country the person typed after "Another country" is stored as its ISO 3166 code, "iso:TR":
# never the words typed, and any language's summary can name it (Babel territory names).
ISO_PREFIX = "iso:"


def typed_country(code: str) -> str:
    """The fact value for a country the person typed, from its ISO 3166 code."""
    return ISO_PREFIX + code.upper()


def iso_country(value: str) -> str | None:
    """The ISO 3166 code in a typed-country value like ``iso:TR``, or None."""
    code = value[len(ISO_PREFIX):] if value.startswith(ISO_PREFIX) else ""
    return code if len(code) == 2 and code.isascii() and code.isalpha() and code.isupper() else None


def current_value(key: str, value: str) -> str:
    """A stored fact value as today's vocabulary reads it (old values mapped, others kept)."""
    spec = FACTS.get(key)
    return spec.legacy.get(value, value) if spec else value


@dataclass(frozen=True, slots=True)
class FactIssue:
    """Why ``key op value`` is not what the vocabulary accepts: a code, the words, a fix-it hint."""

    code: str
    message: str
    hint: str
    severity: Literal["error", "warning"] = "error"


def fact_issue(key: str, value: str, op: str = "=") -> FactIssue | None:
    """What is wrong with ``key op value`` against :data:`FACTS`; None when nothing is.

    An old value is only a warning: saved sessions and the summary still read it.
    """
    spec = FACTS.get(key)
    if spec is None:
        return FactIssue("E-FACT-KEY", f"unknown fact key '{key}'",
                         "use one of: " + ", ".join(FACTS) + " (see content/README.md)")
    if value in spec.legacy:
        return FactIssue("W-FACT-LEGACY", f"'{key}={value}' is an old value; the lawyer summary "
                         f"reads it as '{spec.legacy[value]}'",
                         f"write one of: {', '.join(spec.values)}", "warning")
    if value not in spec.values:
        return FactIssue("E-FACT-VALUE", f"unknown value '{value}' for fact '{key}'",
                         f"use one of: {', '.join(spec.values)}")
    if spec.multi != (op == "+="):
        want = "+=" if spec.multi else "="
        return FactIssue("E-FACT-OP", f"fact '{key}' is written with '{op}'",
                         f"write 'fact: {key}{want}{value}'")
    return None
