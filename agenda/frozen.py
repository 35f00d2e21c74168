"""Frozen value classes, as `@dataclass(frozen=True)` makes them, at a fraction of the cost.

`dataclasses` compiles six functions from source text for every class, every time the
program starts: for the twenty classes a command like `summit items` loads, that was half of
the core's import time (bench/bench_startup.py). Here only `__init__` is compiled (it has to
be, to stay as fast as a dataclass's), and only once the class has built COMPILE_AFTER
instances (until then each call is bound in Python, to the same effect); equality,
hashing, repr and the frozen guard are shared closures over an `attrgetter`. The class still
looks like a dataclass to the rest of the world (`dataclasses.fields`, `replace`, `asdict`,
`is_dataclass`, orjson), and to mypy through `dataclass_transform`.

Only what this project uses is supported: single classes (no dataclass bases), fields with
defaults or `field(default=, default_factory=, compare=, hash=, repr=)`, `eq=False`, and a
`__post_init__`. Anything else falls back to `dataclasses.dataclass` itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, dataclass_transform

T = TypeVar("T")

# The marker dataclasses.fields() filters on; absent in some future Python, then we fall back.
_FIELD = getattr(dataclasses, "_FIELD", None)


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _key(names: list[str]) -> Callable[[Any], Any]:
    if not names:
        return lambda _self: ()
    return attrgetter(*names)


# Instances a class builds by binding its arguments in Python before its `__init__` is
# compiled: compiling one costs 50-120 µs, binding about 1 µs more than the compiled one.
# A full read builds a Summit, a few Sections, Delegations, Acceptances and a SummitState,
# most of them a handful of times: their compiling was ~0.45 ms of `summit items`.
COMPILE_AFTER = 64


def _lazy_init(cls: type, source: str, env: dict[str, Any],
               fields: dict[str, Field[Any]], post_init: bool) -> Callable[..., None]:
    """An `__init__` compiled once the class has built COMPILE_AFTER instances: a command
    compiles only those of the classes it builds many of. Until then each call is bound
    here (`_binder`) exactly as the compiled one would bind it, and a call it would refuse
    compiles it at once, to be refused in its words."""
    bind = _binder(fields)
    built = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal built
        if cls.__dict__.get("__init__") is __init__:
            if built < COMPILE_AFTER:
                values = bind(args, kwargs)
                if values is not None:
                    built += 1
                    self.__dict__.update(values)
                    if post_init:
                        self.__post_init__()
                    return
            exec(compile(source, f"<frozen {cls.__qualname__}>", "exec"), env)  # noqa: S102
            real = env["__init__"]
            real.__qualname__ = f"{cls.__qualname__}.__init__"
            type.__setattr__(cls, "__init__", real)
        cls.__dict__["__init__"](self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _binder(fields: dict[str, Field[Any]]
            ) -> Callable[[tuple[Any, ...], dict[str, Any]], list[tuple[str, Any]] | None]:
    """What the compiled `__init__` of these fields sets, in their order, for a call's
    arguments; None for a call it refuses (too many, an unknown or repeated keyword, a
    field without a default left out). Every parameter takes a position or a keyword; a
    field with a default factory left out, or given MISSING, gets a new value from it."""
    names = list(fields)
    count = len(names)
    # (name, default, factory): MISSING for none; a factory's field defaults to MISSING.
    specs = [(name, MISSING if spec.default_factory is not MISSING else spec.default,
              spec.default_factory) for name, spec in fields.items()]

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, Any]] | None:
        given = len(args)
        if given > count or (kwargs and any(k not in names[given:] for k in kwargs)):
            return None
        values = []
        for index, (name, default, factory) in enumerate(specs):
            if index < given:
                value = args[index]
            elif name in kwargs:
                value = kwargs[name]
            elif default is not MISSING or factory is not MISSING:
                value = default
            else:
                return None
            values.append((name, value))
        for index, (name, _, factory) in enumerate(specs):
            if factory is not MISSING and values[index][1] is MISSING:
                values[index] = (name, factory())
        return values

    return bind


def _build(cls: type[T], eq: bool) -> type[T]:
    annotations = cls.__dict__.get("__annotations__", {})
    if (_FIELD is None or "__slots__" in cls.__dict__
            or any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:])):
        return dataclasses.dataclass(frozen=True, eq=eq)(cls)
    fields: dict[str, Field[Any]] = {}
    for name, kind in annotations.items():
        if isinstance(kind, str) and kind.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        spec: Any = value if isinstance(value, Field) else dataclasses.field(default=value)
        if not spec.init or spec.kw_only is True:
            return dataclasses.dataclass(frozen=True, eq=eq)(cls)
        spec.name = name
        spec.type = kind
        spec._field_type = _FIELD
        fields[name] = spec
        if isinstance(value, Field):  # the class attribute is the plain default, as dataclasses do
            if value.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)

    # __init__ is compiled, so that building an instance costs what a dataclass's does.
    names = list(fields)
    env: dict[str, Any] = {}
    params, body, seen_default = [], [], False
    for name, spec in fields.items():
        if spec.default is not MISSING:
            env[f"__d_{name}"] = spec.default
            params.append(f"{name}=__d_{name}")
            seen_default = True
        elif spec.default_factory is not MISSING:
            env[f"__f_{name}"] = spec.default_factory
            env["__MISSING"] = MISSING
            params.append(f"{name}=__MISSING")
            body.append(f"    if {name} is __MISSING: {name} = __f_{name}()")
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            params.append(name)
    body.append("    __dict = self.__dict__")
    body.extend(f"    __dict[{name!r}] = {name}" for name in names)
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = (f"def __init__(self, {', '.join(params)}):\n" if params
              else "def __init__(self):\n") + "\n".join(body) + "\n"
    init = _lazy_init(cls, source, env, fields, hasattr(cls, "__post_init__"))

    compared = _key([n for n, f in fields.items() if f.compare])
    hashed = _key([n for n, f in fields.items()
                   if (f.compare if f.hash is None else f.hash)])
    shown = [n for n, f in fields.items() if f.repr]

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    own = cls.__dict__
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    for name, method in (("__repr__", __repr__), ("__eq__", __eq__), ("__hash__", __hash__)):
        method.__qualname__ = f"{cls.__qualname__}.{name}"
    methods: dict[str, Any] = {"__init__": init, "__repr__": __repr__}
    if eq:
        methods["__eq__"] = __eq__
        if not explicit_hash:
            methods["__hash__"] = __hash__
    for name, method in methods.items():
        if name not in own or name == "__hash__":  # the class's own methods win
            setattr(cls, name, method)
    for name in ("__setattr__", "__delattr__"):
        if name in own:
            raise TypeError(f"cannot overwrite {name} in frozen class {cls.__name__}")
    setattr(cls, "__setattr__", _frozen_setattr)  # noqa: B010
    setattr(cls, "__delattr__", _frozen_delattr)  # noqa: B010
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", tuple(names))  # noqa: B010
    return cls


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, Field))
def frozen(cls: type[T] | None = None, /, *, eq: bool = True) -> Any:
    """Decorate a class as `@dataclass(frozen=True[, eq=False])` would."""
    if cls is None:
        return lambda c: _build(c, eq)
    return _build(cls, eq)


class _Cached:
    """A value computed on first use and kept in the instance's dictionary: what
    `functools.cached_property` does, without the lock Python 3.11 takes on every read
    (about a tenth of the time of reading a large summit's records went to it). Frozen
    instances compare and hash by their fields only, so the kept value is never compared."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        # A non-data descriptor: once the value is in the instance's dictionary, reads find
        # it there and never come back here.
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


if TYPE_CHECKING:
    from functools import cached_property as cached
else:
    cached = _Cached
