"""``import x as name`` done at first use, for heavy modules that only some requests need.

sqlglot costs more to import than pyarrow (bench/README.md, section 3), and a read that pushes nothing down
never builds a SQL tree (``connector.pushdown.sql.plan_plain_select``). Modules that build trees in some paths
bind the name to a stand-in instead::

    if TYPE_CHECKING:
        from sqlglot import exp
    else:
        exp = lazy_module("sqlglot.expressions", globals(), "exp")

The first attribute read (``exp.Column``) imports the module and rebinds ``exp`` in that namespace to the module
itself, so later reads cost what a plain import's do. mypy checks the code against the real import.
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from typing import Any


class _LazyModule:
    __slots__ = ("_alias", "_name", "_namespace")

    def __init__(self, name: str, namespace: MutableMapping[str, Any], alias: str) -> None:
        self._name = name
        self._namespace = namespace
        self._alias = alias

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self._name)
        if self._namespace.get(self._alias) is self:
            self._namespace[self._alias] = module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported at first use>"


def lazy_module(name: str, namespace: MutableMapping[str, Any], alias: str) -> Any:
    """A stand-in for module ``name`` bound as ``alias`` in ``namespace`` (a module's ``globals()``)."""
    return _LazyModule(name, namespace, alias)
