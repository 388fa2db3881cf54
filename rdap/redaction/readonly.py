"""Read-only views of a redacted document's JSON: what renderers read, and how it is serialized.

A redacted body shares every part redaction did not change with the full document (and a
page's documents share parts with each other), so renderers must not be able to change it.
The views copy nothing: a view wraps one JSON object or array, and wraps what it hands out in
turn, so every object below a view is a read-only `Mapping` and every array a read-only
`Sequence`; strings, numbers, booleans and null are immutable anyway. `json_bytes` serializes
anything holding views at orjson's speed (orjson reads the wrapped containers directly).

What is built once and then shared as it is (the redacted[] declarations) is frozen instead:
a `FrozenObject` is a dict that refuses every change and holds only frozen values, so orjson
serializes it directly, without a view in between.

Every public way of changing either refuses (tests/redaction/test_readonly.py tries them);
only code reaching past the interface (a view's private `_data`, `dict.update(frozen, ...)`)
could change them, as it could change any Python object.
"""

from __future__ import annotations

from collections.abc import (
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from typing import Any, NoReturn, overload

import orjson

_MISSING = object()


class ObjectView(Mapping[str, Any]):
    """A JSON object, read-only. Equal to the dict (or view) with the same content."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data  # private: the one way to reach the container (see the module doc)

    def __getitem__(self, key: str) -> Any:
        return view(self._data[key])

    def get(self, key: str, default: Any = None) -> Any:
        value = self._data.get(key, _MISSING)
        return default if value is _MISSING else view(value)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def items(self) -> ItemsView[str, Any]:
        return _Items(self)

    def values(self) -> ValuesView[Any]:
        return _Values(self)

    def keys(self) -> KeysView[str]:
        return KeysView(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObjectView):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ObjectView({self._data!r})"


class _Items(ItemsView[str, Any]):
    __slots__ = ()
    _mapping: ObjectView

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        data = self._mapping._data
        return zip(data, map(view, data.values()), strict=True)


class _Values(ValuesView[Any]):
    __slots__ = ()
    _mapping: ObjectView

    def __iter__(self) -> Iterator[Any]:
        return map(view, self._mapping._data.values())


class ArrayView(Sequence[Any]):
    """A JSON array, read-only. Equal to the list (or view) with the same content; not a list,
    so test for `Sequence` (and not `str`) rather than `list`."""

    __slots__ = ("_data",)

    def __init__(self, data: list[Any] | tuple[Any, ...]) -> None:
        self._data = data

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> ArrayView: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ArrayView(self._data[index])
        return view(self._data[index])

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:
        return map(view, self._data)

    def __reversed__(self) -> Iterator[Any]:
        return map(view, reversed(self._data))

    def __contains__(self, value: object) -> bool:
        return value in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArrayView):
            other = list(other._data)
        if isinstance(other, list):
            return list(self._data) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ArrayView({list(self._data)!r})"


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def view(value: Any) -> Any:
    """`value` as renderers may see it: a view of an object or array, anything else as it is."""
    kind = type(value)
    if kind is dict:
        return ObjectView(value)
    if kind is list:
        return ArrayView(value)
    if kind in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        return ObjectView(value)
    if isinstance(value, (list, tuple)):
        return ArrayView(value)
    return value


class FrozenObject(dict[str, Any]):
    """A JSON object that never changes: a dict that refuses every change, holding only
    strings, numbers, booleans, null, tuples and FrozenObjects (see `frozen`)."""

    __slots__ = ()

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise TypeError("a frozen JSON object cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse
    setdefault = pop = popitem = update = clear = _refuse
    __init__ = _refuse  # dict.__init__ would add members

    def __copy__(self) -> FrozenObject:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenObject:
        return self


_NEW_DICT = dict.__new__
_FILL = dict.update  # the only fill: once, by `frozen`, before anyone holds the object


def frozen(value: Any) -> Any:
    """A deep frozen copy of plain JSON: objects as FrozenObjects, arrays as tuples."""
    if isinstance(value, dict):
        out = _NEW_DICT(FrozenObject)
        _FILL(out, {key: frozen(item) for key, item in value.items()})
        return out
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


def _unwrap(value: Any) -> Any:
    kind = type(value)
    if kind is ObjectView or kind is ArrayView:
        return value._data
    raise TypeError(f"Type is not JSON serializable: {kind.__name__}")


def json_bytes(value: Any) -> bytes:
    """`value` as JSON (UTF-8), views included: what `orjson.dumps` gives for the same plain
    content."""
    return orjson.dumps(value, default=_unwrap)
