"""JSONPath subset for redaction: parse once, locate nodes in a document, render RFC 9537 paths.

Grammar (RFC 9535 syntax; a small subset of it)::

    path     := "$" step*
    step     := "." NAME | "['" TEXT "']" | "[" INT "]" | "[" INT? ":" INT? "]" | "[?(" test ")]"
    test     := "@" rel "==" "'" TEXT "'"
    rel      := ("." NAME | "[" INT "]")*

A filter selects the children (array elements or member values) whose `rel` value is a string
equal to the literal. Nothing else is supported, on purpose: every path in the policy files and
in `redacted[]` must be readable at a glance and mean the same in every JSONPath library.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, TypeAlias

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_FILTER = re.compile(
    r"\[\?\(@((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])*)\s*==\s*'((?:[^'\\]|\\.)*)'\)\]"
)
_REL_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[([0-9]+)\]")
_QUOTED = re.compile(r"\['((?:[^'\\]|\\.)*)'\]")
_SLICE = re.compile(r"\[(-?[0-9]*):(-?[0-9]*)\]")
_INDEX = re.compile(r"\[(-?[0-9]+)\]")

Key: TypeAlias = str | int
Location: TypeAlias = tuple[Any, Key]  # (parent container, member name or array index)
Children: TypeAlias = list[tuple[Key, Any]]


class JsonPathError(ValueError):
    """A path uses syntax outside the supported subset."""


@dataclasses.dataclass(frozen=True)
class Member:
    """`.name` or `['name']`: one member of an object."""

    name: str

    def render(self) -> str:
        if _NAME.fullmatch(self.name):
            return "." + self.name
        return "['" + _escape(self.name) + "']"

    def select(self, node: Any) -> Children:
        if type(node) is dict and self.name in node:
            return [(self.name, node[self.name])]
        return []


@dataclasses.dataclass(frozen=True)
class Index:
    """`[n]`: one array element; negative n counts from the end."""

    index: int

    def render(self) -> str:
        return f"[{self.index}]"

    def select(self, node: Any) -> Children:
        if type(node) is not list:
            return []
        index = self.index + len(node) if self.index < 0 else self.index
        return [(index, node[index])] if 0 <= index < len(node) else []


@dataclasses.dataclass(frozen=True)
class Slice:
    """`[start:stop]`: a range of array elements (no step)."""

    start: int | None
    stop: int | None

    def render(self) -> str:
        start = "" if self.start is None else str(self.start)
        stop = "" if self.stop is None else str(self.stop)
        return f"[{start}:{stop}]"

    def select(self, node: Any) -> Children:
        if type(node) is not list:
            return []
        return [(i, node[i]) for i in range(*slice(self.start, self.stop).indices(len(node)))]


MISSING: Any = object()  # what `Filter.extract` returns when `rel` leads nowhere


@dataclasses.dataclass(frozen=True)
class Filter:
    """`[?(@<rel>=='<value>')]`: the children whose value at `rel` equals `value`."""

    rel: tuple[Member | Index, ...]
    value: str
    # child → its value at `rel`, or MISSING. Equal to `value` (a str) only if it is that str.
    extract: Callable[[Any], Any] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extract", _extractor(self.rel))

    def render(self) -> str:
        rel = "".join(step.render() for step in self.rel)
        return f"[?(@{rel}=='{_escape(self.value)}')]"

    def select(self, node: Any) -> Children:
        extract, value = self.extract, self.value
        if type(node) is list:
            return [(i, child) for i, child in enumerate(node) if extract(child) == value]
        if type(node) is dict:
            return [(k, child) for k, child in node.items() if extract(child) == value]
        return []


def _extractor(rel: tuple[Member | Index, ...]) -> Callable[[Any], Any]:
    """`@<rel>` as a function, specialised for the jCard shapes (`@[0]`, `@[1].type`), remarks
    (`@.title`) and entity roles (`@.roles[0]`): it runs for every property of every contact on
    every request."""
    if len(rel) == 1 and isinstance(rel[0], Index) and rel[0].index >= 0:
        k = rel[0].index
        return lambda c: c[k] if type(c) is list and len(c) > k else MISSING
    if len(rel) == 1 and isinstance(rel[0], Member):
        name = rel[0].name
        return lambda c: c.get(name, MISSING) if type(c) is dict else MISSING
    if (
        len(rel) == 2
        and isinstance(rel[0], Member)
        and isinstance(rel[1], Index)
        and rel[1].index >= 0
    ):  # @.roles[0]: the entity paths of every domain answer
        name, k = rel[0].name, rel[1].index
        return lambda c: (
            c[name][k]
            if type(c) is dict and type(c.get(name)) is list and len(c[name]) > k
            else MISSING
        )
    if (
        len(rel) == 2
        and isinstance(rel[0], Index)
        and rel[0].index >= 0
        and isinstance(rel[1], Member)
    ):
        k, name = rel[0].index, rel[1].name
        return lambda c: (
            c[k].get(name, MISSING)
            if type(c) is list and len(c) > k and type(c[k]) is dict
            else MISSING
        )

    def generic(node: Any) -> Any:
        for step in rel:
            found = step.select(node)
            if not found:
                return MISSING
            node = found[0][1]
        return node

    return generic


Step: TypeAlias = Member | Index | Slice | Filter


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@dataclasses.dataclass(frozen=True)
class JsonPath:
    """A parsed path. `str(path)` is its canonical text, as written into `redacted[]`."""

    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return "$" + "".join(step.render() for step in self.steps)

    def join(self, relative: JsonPath) -> JsonPath:
        """This path followed by `relative` (itself written from `$`)."""
        return JsonPath(self.steps + relative.steps)

    def locate(self, root: Any, copied: set[int] | None = None) -> list[Location]:
        """Every (parent, key) the path selects in `root`, in document order.

        With `copied` (ids of the containers already copied), every container on the way to a
        selected location is first replaced by a shallow copy, so the caller can change what it
        gets without touching the original document (copy-on-write). `root` must be a copy.
        """
        if not self.steps:
            raise JsonPathError("the root itself has no parent location")
        current = [root]
        for step in self.steps[:-1]:
            following = []
            for node in current:
                for key, child in step.select(node):
                    if copied is None or id(child) in copied:
                        following.append(child)
                    else:
                        following.append(writable(node, key, copied))
            current = following
        last = self.steps[-1]
        return [(node, key) for node in current for key, _ in last.select(node)]

    def values(self, root: Any) -> list[Any]:
        """Every value the path selects in `root`, in document order."""
        if not self.steps:
            return [root]
        return [parent[key] for parent, key in self.locate(root)]


def writable(parent: Any, key: Key, copied: set[int]) -> Any:
    """`parent[key]`, first replaced by a shallow copy if it is a container not yet copied."""
    child = parent[key]
    if id(child) in copied or type(child) not in (dict, list):
        return child
    child = child.copy()
    copied.add(id(child))
    parent[key] = child
    return child


def parse(text: str) -> JsonPath:
    """Parse `text`; raise JsonPathError naming the offending position."""
    if not text.startswith("$"):
        raise JsonPathError(f"path {text!r} must start with '$'")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        step, pos = _parse_step(text, pos)
        steps.append(step)
    return JsonPath(tuple(steps))


def _parse_step(text: str, pos: int) -> tuple[Step, int]:
    if text.startswith(".", pos):
        name = _NAME.match(text, pos + 1)
        if name:
            return Member(name.group()), name.end()
    elif m := _QUOTED.match(text, pos):
        return Member(_unescape(m.group(1))), m.end()
    elif m := _INDEX.match(text, pos):
        return Index(int(m.group(1))), m.end()
    elif m := _SLICE.match(text, pos):
        start, stop = (int(g) if g else None for g in m.groups())
        return Slice(start, stop), m.end()
    elif m := _FILTER.match(text, pos):
        rel = tuple(
            Member(name) if name else Index(int(index))
            for name, index in _REL_STEP.findall(m.group(1))
        )
        return Filter(rel, _unescape(m.group(2))), m.end()
    raise JsonPathError(f"path {text!r}: unsupported syntax at offset {pos}: {text[pos:]!r}")
