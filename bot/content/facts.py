"""The lawyer summary's fact vocabulary, declared once: every key, its values, its old values.

Content files record facts with ``fact: key=value`` (or ``key+=value`` for a list). The checker
refuses a key or value not declared here, the lawyer summary renders only these, and a session
saved under an older vocabulary is read through ``legacy`` so its summary stays correct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


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


def is_known(key: str, value: str) -> bool:
    """True when ``key=value`` is in the vocabulary (a typed ``iso:XX`` counts for ``country``)."""
    spec = FACTS.get(key)
    if spec is None:
        return False
    value = current_value(key, value)
    return value in spec.values or (key == "country" and iso_country(value) is not None)


def current_value(key: str, value: str) -> str:
    """A stored fact value as today's vocabulary reads it (old values mapped, others kept)."""
    spec = FACTS.get(key)
    return spec.legacy.get(value, value) if spec else value


def unknown_fact(key: str, value: str, op: str = "=") -> tuple[str, str] | None:
    """Why ``key op value`` is not in the vocabulary, with a hint; None when it is."""
    spec = FACTS.get(key)
    if spec is None:
        return f"unknown fact key '{key}'", "use one of: " + ", ".join(FACTS)
    if value in spec.legacy:
        return (f"'{key}={value}' is an old value",
                f"write '{key}={spec.legacy[value]}'" if spec.legacy[value] in spec.values
                else "use one of: " + ", ".join(spec.values))
    if value not in spec.values:
        return f"unknown value '{value}' for fact '{key}'", "use one of: " + ", ".join(spec.values)
    if op == "+=" and not spec.multi:
        return f"fact '{key}' holds one value", f"write 'fact: {key}={value}'"
    if op == "=" and spec.multi:
        return f"fact '{key}' is a list", f"write 'fact: {key}+={value}'"
    return None
