"""agenda.frozen builds classes that behave as `@dataclass(frozen=True)` ones do."""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError, field
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenda import frozen as frozen_module
from agenda.frozen import frozen


def pair(eq: bool = True) -> tuple[type, type]:
    """The same class body, once through dataclasses and once through frozen."""

    def body() -> dict[str, Any]:
        return {
            "__annotations__": {"a": "int", "b": "str", "c": "tuple[int, ...]",
                                "d": "list[int]", "e": "str"},
            "c": (),
            "d": field(default_factory=list, compare=False, hash=False),
            "e": field(default="x", repr=False),
            "total": property(lambda self: self.a + len(self.c)),
        }

    real = dataclasses.dataclass(frozen=True, eq=eq)(type("Thing", (), body()))
    ours = frozen(eq=eq)(type("Thing", (), body()))
    return real, ours


values = st.tuples(st.integers(-5, 5), st.text(max_size=3),
                   st.lists(st.integers(0, 3), max_size=3).map(tuple),
                   st.lists(st.integers(0, 3), max_size=2), st.sampled_from(["x", "y"]))


@given(values, values)
def test_behaves_as_a_frozen_dataclass(one: tuple[Any, ...], two: tuple[Any, ...]) -> None:
    real, ours = pair()
    r1, r2, o1, o2 = real(*one), real(*two), ours(*one), ours(*two)
    assert (o1 == o2) == (r1 == r2)
    assert (o1 != o2) == (r1 != r2)
    if o1 == o2:
        assert hash(o1) == hash(o2)
    assert repr(o1) == repr(r1)
    assert dataclasses.asdict(o1) == dataclasses.asdict(r1)
    assert [f.name for f in dataclasses.fields(o1)] == [f.name for f in dataclasses.fields(r1)]
    assert dataclasses.replace(o1, a=one[0] + 1) == ours(one[0] + 1, *one[1:])
    assert orjson.loads(orjson.dumps(o1)) == orjson.loads(orjson.dumps(r1))
    assert o1.total == r1.total
    assert o1 != object() and o1 != real(*one)  # another class is never equal


def test_defaults_factories_and_the_frozen_guard() -> None:
    _, ours = pair()
    one, two = ours(1, "b"), ours(1, "b")
    assert one.c == () and one.d == [] and one.e == "x"
    assert one.d is not two.d  # each instance its own list
    assert ours.c == () and ours.e == "x"  # the plain default stays on the class
    assert not hasattr(ours, "d")  # a factory leaves no class attribute, as with dataclasses
    with pytest.raises(FrozenInstanceError):
        one.a = 2
    with pytest.raises(FrozenInstanceError):
        del one.a
    with pytest.raises(TypeError):
        ours()
    assert ours.__match_args__ == ("a", "b", "c", "d", "e")
    assert dataclasses.is_dataclass(one)


def test_eq_false_keeps_identity() -> None:
    real, ours = pair(eq=False)
    assert ours(1, "b") != ours(1, "b")
    assert real(1, "b") != real(1, "b")
    one = ours(1, "b")
    assert {one: 1}[one] == 1


def test_post_init_and_own_methods() -> None:
    @frozen
    class Box:
        size: int
        seen: list[int] = field(default_factory=list, compare=False)

        def __post_init__(self) -> None:
            self.seen.append(self.size)

        def __repr__(self) -> str:
            return f"box of {self.size}"

    assert Box(3).seen == [3]
    assert repr(Box(3)) == "box of 3"
    assert Box(3) == Box(3) and hash(Box(3)) == hash(Box(3))


def test_non_default_after_default_is_refused() -> None:
    with pytest.raises(TypeError):
        frozen(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))


def test_init_is_compiled_once_the_class_has_built_a_few_instances() -> None:
    _, ours = pair()
    lazy = ours.__dict__["__init__"]

    class Sub(ours):  # type: ignore[misc, valid-type]
        pass

    # Through a subclass: the compiled __init__ lands on the class itself.
    bound = [Sub(n, "b") for n in range(frozen_module.COMPILE_AFTER)]
    assert ours.__dict__["__init__"] is lazy
    first = Sub(1, "b")
    assert ours.__dict__["__init__"] is not lazy
    assert first == Sub(1, "b") == bound[1] and first.c == () and ours(1, "b") != first
    assert list(vars(first).items()) == list(vars(bound[1]).items())


def test_a_call_the_compiled_init_refuses_compiles_it_at_once() -> None:
    _, ours = pair()
    lazy = ours.__dict__["__init__"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        ours(1, "b", z=2)
    assert ours.__dict__["__init__"] is not lazy


_NAMES = ["a", "b", "c", "d", "e", "z", "self"]
_ARG = st.one_of(st.integers(0, 3), st.just(dataclasses.MISSING), st.lists(st.integers(0, 2),
                                                                          max_size=2))


@given(args=st.lists(_ARG, max_size=7),
       kwargs=st.dictionaries(st.sampled_from(_NAMES), _ARG, max_size=4))
def test_the_bound_init_sets_and_refuses_what_the_compiled_one_does(
        args: list[Any], kwargs: dict[str, Any]) -> None:
    # Before it is compiled, __init__ binds its arguments itself: the same fields, values and
    # order (a default factory called for MISSING too), and no call the compiled one refuses.
    def outcome(compile_after: int) -> object:
        _, ours = pair()
        saved = frozen_module.COMPILE_AFTER
        frozen_module.COMPILE_AFTER = compile_after
        try:
            made = ours(*args, **kwargs)
        except TypeError as exc:
            return "refused", str(exc)
        finally:
            frozen_module.COMPILE_AFTER = saved
        return list(vars(made).items())

    assert outcome(1) == outcome(0)


def test_cached_is_computed_once_and_never_compared() -> None:
    from agenda.frozen import cached, frozen

    calls: list[int] = []

    @frozen
    class Text:
        body: str

        @cached
        def length(self) -> int:
            calls.append(1)
            return len(self.body)

    a, b = Text("abc"), Text("abc")
    assert a.length == 3 and a.length == 3 and calls == [1]
    assert a == b and hash(a) == hash(b)  # b has no kept value yet: fields alone compare
    assert Text.length.name == "length"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.body = "x"  # type: ignore[misc]
