"""``@lazy_dataclass`` behaves as ``@dataclass``: every check runs on a lazy class and its ``dataclasses`` twin."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.lazy_dataclass import lazy_dataclass


@lazy_dataclass(slots=True)
class LazyPoint:
    x: int
    y: str = "y"
    tags: Mapping[str, str] = field(default_factory=dict)
    secret: bytes = field(default=b"", repr=False)
    note: str = field(default="", compare=False)
    LIMIT: ClassVar[int] = 3


@dataclass(frozen=True, slots=True)
class RealPoint:
    x: int
    y: str = "y"
    tags: Mapping[str, str] = field(default_factory=dict)
    secret: bytes = field(default=b"", repr=False)
    note: str = field(default="", compare=False)
    LIMIT: ClassVar[int] = 3


@lazy_dataclass
class LazyPlain:
    a: int
    b: tuple[int, ...] = ()

    def total(self) -> int:
        return self.a + sum(self.b)


@dataclass(frozen=True)
class RealPlain:
    a: int
    b: tuple[int, ...] = ()

    def total(self) -> int:
        return self.a + sum(self.b)


@lazy_dataclass(frozen=False, slots=True)
class LazyMutable:
    a: int
    items: list[int] = field(default_factory=list)


@dataclass(slots=True)
class RealMutable:
    a: int
    items: list[int] = field(default_factory=list)


def _shown(text: str) -> str:
    return text.replace("Lazy", "").replace("Real", "")


@given(x=st.integers(), y=st.text(max_size=5), tags=st.dictionaries(st.text(max_size=3), st.text(max_size=3),
                                                                     max_size=2),
       secret=st.binary(max_size=4), note=st.text(max_size=3), other=st.integers())
def test_instances_behave_as_dataclasses_own(x: int, y: str, tags: dict[str, str], secret: bytes, note: str,
                                              other: int) -> None:
    lazy, real = LazyPoint(x, y, tags, secret, note), RealPoint(x, y, tags, secret, note)
    assert _shown(repr(lazy)) == _shown(repr(real))
    assert dataclasses.astuple(lazy) == dataclasses.astuple(real)
    assert dataclasses.asdict(lazy) == dataclasses.asdict(real)
    assert [f.name for f in dataclasses.fields(lazy)] == [f.name for f in dataclasses.fields(real)]
    assert LazyPoint.__match_args__ == RealPoint.__match_args__
    assert (lazy == LazyPoint(x, y, dict(tags), secret, note + "!")) == (real == RealPoint(x, y, dict(tags), secret,
                                                                                          note + "!"))
    assert (lazy == LazyPoint(other, y, tags)) == (real == RealPoint(other, y, tags))
    assert lazy != real and lazy.__eq__(real) is NotImplemented
    changed = dataclasses.replace(lazy, x=other)
    assert isinstance(changed, LazyPoint) and changed.x == other and changed.tags == tags
    assert pickle.loads(pickle.dumps(lazy)) == lazy and copy.deepcopy(lazy) == lazy and copy.copy(lazy) == lazy
    plain = LazyPlain(x, (other,))
    assert _shown(repr(plain)) == _shown(repr(RealPlain(x, (other,)))) and plain.total() == x + other
    assert hash(plain) == hash(RealPlain(x, (other,))) and hash(plain) == hash(LazyPlain(x, (other,)))
    assert pickle.loads(pickle.dumps(plain)) == plain


def test_frozen_mutable_and_hashing_as_dataclasses() -> None:
    lazy, real = LazyPoint(1), RealPoint(1)
    for instance in (lazy, real):
        with pytest.raises(dataclasses.FrozenInstanceError):
            instance.x = 2  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del instance.x  # type: ignore[misc]
        with pytest.raises(TypeError):
            hash(instance)  # a dict field: unhashable, as dataclasses' hash of the field tuple
    assert hash(LazyPoint(1, tags=())) == hash(LazyPoint(1, tags=(), note="other"))  # type: ignore[arg-type]
    mutable = LazyMutable(1)
    mutable.a = 2
    mutable.items.append(3)
    assert repr(mutable) == repr(RealMutable(2, [3])).replace("Real", "Lazy")
    assert LazyMutable.__hash__ is None and RealMutable.__hash__ is None
    assert LazyMutable(1).items is not LazyMutable(1).items  # a new default per instance
    assert not hasattr(LazyPoint(1), "__dict__") and not hasattr(RealPoint(1), "__dict__")


def test_signatures_and_errors_as_dataclasses() -> None:
    for cls in (LazyPoint, RealPoint):
        with pytest.raises(TypeError):
            cls()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            cls(1, "y", {}, b"", "", 6)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            cls(1, z=2)  # type: ignore[call-arg]
        assert cls(x=1, note="n").note == "n"


def test_post_init_keyword_only_and_own_methods() -> None:
    @lazy_dataclass
    class Checked:
        a: int
        b: int = field(default=0, kw_only=True)
        c: list[int] = field(default_factory=list, init=False)

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")
            self.c.append(self.a)

        def __repr__(self) -> str:
            return "mine"

    assert Checked(1, b=2).c == [1] and repr(Checked(1)) == "mine"
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    with pytest.raises(TypeError):
        Checked(1, 2)  # type: ignore[misc]


def test_what_is_refused_is_refused_at_definition() -> None:
    with pytest.raises(TypeError):
        @dataclass(frozen=True)
        class Sub(LazyPlain):  # dataclasses sees a non-frozen base
            c: int = 0
    with pytest.raises(TypeError, match="__setattr__"):
        @lazy_dataclass
        class Own:
            a: int

            def __setattr__(self, name: str, value: Any) -> None:
                pass


def test_a_lazy_subclass_of_a_lazy_class() -> None:
    @lazy_dataclass
    class Base:
        a: int

    @lazy_dataclass
    class Child(Base):
        b: str = ""

    assert Child(1, "x") == Child(1, "x") and Child(1, "x") != Base(1) and repr(Child(1)).endswith("Child(a=1, b='')")
    assert Base(2).a == 2


def test_the_init_is_compiled_once_and_only_when_used() -> None:
    @lazy_dataclass
    class Late:
        a: int

    first_init = Late.__dict__["__init__"]
    results = []
    threads = [threading.Thread(target=lambda: results.append(Late(1))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [Late(1)] * 8
    assert Late.__dict__["__init__"] is not first_init and Late.__init__.__qualname__.endswith("Late.__init__")
