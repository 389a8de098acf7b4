"""Dataclasses that cost almost nothing to define: their methods are compiled on first use.

``@dataclass(frozen=True)`` compiles six methods when the class is defined (``exec`` of generated source:
about 0.5 ms a class on Python 3.11). The protocol, constraint and adapter modules define some 60 of them, and
a cold Lambda pays for all of them before it answers its first query - though most message types are never
built by any one process. ``@lazy_dataclass`` makes the same dataclass (``dataclasses.fields``, ``replace``,
``asdict``, ``__match_args__``, slots) with shared implementations of ``__repr__``, ``__eq__``, ``__hash__``
and the frozen ``__setattr__``/``__delattr__``, and an ``__init__`` compiled the first time the class is
instantiated (the same code ``dataclasses`` writes: later instances cost what they always did).

Differences, all loud: ``InitVar`` fields are not supported (refused at definition), and a ``@dataclass``
may not subclass a ``@lazy_dataclass`` or the other way round (``dataclasses`` raises ``TypeError`` at
definition: one is frozen for it, the other not). ``tests/protocol/test_lazy_dataclass.py`` checks that instances
behave as ``dataclasses``' own.
"""

from __future__ import annotations

import dataclasses
import reprlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T", bound=type)

_MISSING = dataclasses.MISSING
_lock = threading.Lock()


@overload
def lazy_dataclass(cls: T, /) -> T: ...


@overload
def lazy_dataclass(*, frozen: bool = True, slots: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def lazy_dataclass(cls: Any = None, /, *, frozen: bool = True, slots: bool = False) -> Any:
    """``dataclasses.dataclass(frozen=frozen, slots=slots)`` with its methods compiled on first use."""

    def wrap(cls: T) -> T:
        return _process(cls, frozen=frozen, slots=slots)

    return wrap if cls is None else wrap(cls)


def _process(cls: Any, *, frozen: bool, slots: bool) -> Any:
    own = cls.__dict__
    # Python puts __hash__ = None in a class that defines __eq__ alone: that is not the class's own __hash__.
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    methods: dict[str, Any] = {"__init__": _first_init, "__repr__": _repr, "__eq__": _eq}
    if frozen:
        methods.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr)
        if slots:
            methods.update(__getstate__=_getstate, __setstate__=_setstate)
    for name, method in methods.items():
        if name in ("__setattr__", "__delattr__") and name in own:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
        if name not in own:  # like dataclasses: what the class writes itself wins
            setattr(cls, name, method)
    if not explicit_hash:  # as dataclasses with eq=True: frozen hashes its fields, mutable is unhashable
        cls.__hash__ = _hash if frozen else None
    if not own.get("__doc__"):
        cls.__doc__ = f"{cls.__name__}(...)"  # dataclasses would build it with inspect.signature
    made = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    real = {f.name for f in dataclasses.fields(made)}
    if any(name not in real and "InitVar" in str(f.type) for name, f in made.__dataclass_fields__.items()):
        raise TypeError(f"{cls.__name__}: InitVar fields are not supported by @lazy_dataclass")
    return made


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Field names of a class: all, compared, hashed, shown (kept on the class after the first call)."""
    names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = cls.__dict__.get(
        "__lazy_dataclass_names__")
    if names is None:
        fields = dataclasses.fields(cls)
        names = (tuple(f.name for f in fields), tuple(f.name for f in fields if f.compare),
                 tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)),
                 tuple(f.name for f in fields if f.repr))
        type.__setattr__(cls, "__lazy_dataclass_names__", names)
    return names


# ---------------------------------------------------------------------------------------------- methods


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    init = _compiled_init(cls)
    init(self, *args, **kwargs)


def _compiled_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` dataclasses would have written, compiled now and kept on the class."""
    with _lock:
        current = cls.__dict__.get("__init__")
        if current is not None and current is not _first_init:
            return current
        frozen = getattr(cls, "__setattr__", None) is _frozen_setattr
        namespace: dict[str, Any] = {"__lazy_set__": object.__setattr__, "__lazy_missing__": _MISSING}
        params: list[str] = []
        keyword_only: list[str] = []
        body: list[str] = []
        for f in dataclasses.fields(cls):
            name = f.name
            if f.default is not _MISSING:
                namespace[f"__lazy_default_{name}__"] = f.default
            if f.default_factory is not _MISSING:
                namespace[f"__lazy_factory_{name}__"] = f.default_factory
            if not f.init:
                if f.default_factory is not _MISSING:
                    value = f"__lazy_factory_{name}__()"
                elif f.default is not _MISSING:
                    value = f"__lazy_default_{name}__"
                else:
                    continue
            else:
                if f.default is not _MISSING:
                    param = f"{name}=__lazy_default_{name}__"
                elif f.default_factory is not _MISSING:
                    param = f"{name}=__lazy_missing__"
                else:
                    param = name
                (keyword_only if f.kw_only else params).append(param)
                value = (f"__lazy_factory_{name}__() if {name} is __lazy_missing__ else {name}"
                         if f.default_factory is not _MISSING else name)
            body.append(f"__lazy_set__(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
        if hasattr(cls, "__post_init__"):
            body.append("self.__post_init__()")
        signature = ", ".join(["self", *params, *(["*", *keyword_only] if keyword_only else [])])
        source = f"def __init__({signature}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
        exec(source, namespace)  # generated from the class's own field names, as dataclasses does
        init: Callable[..., None] = namespace["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        type.__setattr__(cls, "__init__", init)
        return init


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _names(type(self))[3])
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = _names(type(self))[1]
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in _names(type(self))[2]))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, n) for n in _names(type(self))[0]]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(_names(type(self))[0], state, strict=True):
        object.__setattr__(self, name, value)
