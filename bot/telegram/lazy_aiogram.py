"""Let aiogram build its Telegram types and methods on first use instead of at import.

``aiogram.types`` ends by calling ``model_rebuild`` on each of its ~450 types, giving every
one its own validator with copies of everything it can contain; with the ~190 methods built
alongside, that is most of what ``import aiogram`` costs in memory (the README has the figures).
The types are declared ``defer_build``, so pydantic builds one when it is first used, provided
the names its annotations mention can be found: aiogram passes them as ``_types_namespace``.

:func:`defer_aiogram_types` (run when :mod:`bot.telegram` is imported, before any aiogram
import) skips those calls and remembers, per module, the names its classes' annotations use.
:func:`resolve_names` puts them into the modules, where pydantic looks for them; it runs on
the first rebuild of any aiogram model and when ``bot.telegram.methods`` is imported. Methods
whose parameters mention types are then built on first use too. Validation is unchanged; only
what the bot uses gets built. If aiogram was imported first, everything is built eagerly as usual.

Checked against aiogram 3.31.0 with pydantic 2.13.5; ``tests/test_lazy_aiogram.py``
compares every type and method with an eagerly built aiogram, so an upgrade that breaks this
fails there. Delete this module (and its call in ``bot/telegram/__init__.py``) when
``aiogram/types/__init__.py`` stops calling ``model_rebuild`` on every type: upstream issue
aiogram/aiogram#1513, "High memory consumption due to importing any object from aiogram".
"""

from __future__ import annotations

import re
import sys
from typing import Any

from pydantic import BaseModel

_ORIGINAL = BaseModel.__dict__["model_rebuild"]
_PREFIXES = ("aiogram.types.", "aiogram.methods.")
_NAME = re.compile(r"[A-Za-z_]\w*")
_PENDING: dict[str, dict[str, Any]] = {}  # module name -> names its annotations need


def _model_rebuild(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
                   _parent_namespace_depth: int = 2,
                   _types_namespace: dict[str, Any] | None = None) -> bool | None:
    if cls.__module__.startswith(_PREFIXES):
        if _types_namespace is not None and not force:
            needed = _PENDING.setdefault(cls.__module__, {})
            for name in _annotation_names(cls):
                if name in _types_namespace:
                    needed[name] = _types_namespace[name]
            return None  # built on first use, like any defer_build model
        resolve_names()
    return _ORIGINAL.__func__(cls, force=force, raise_errors=raise_errors,
                              _parent_namespace_depth=_parent_namespace_depth + 1,
                              _types_namespace=_types_namespace)


def _annotation_names(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        for annotation in getattr(klass, "__annotations__", {}).values():
            names.update(_NAME.findall(annotation if isinstance(annotation, str) else repr(annotation)))
    return names


def resolve_names() -> None:
    """Make the names deferred types refer to importable from their modules (idempotent)."""
    while _PENDING:
        module_name, names = _PENDING.popitem()
        module = sys.modules[module_name].__dict__
        for name, value in names.items():
            module.setdefault(name, value)


def defer_aiogram_types() -> None:
    """Install the deferral (idempotent); takes effect if aiogram is imported afterwards."""
    if BaseModel.__dict__["model_rebuild"] is _ORIGINAL:
        BaseModel.model_rebuild = classmethod(_model_rebuild)  # type: ignore[assignment, method-assign]
