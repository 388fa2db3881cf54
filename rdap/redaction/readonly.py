"""Read-only views of a redacted document's JSON: what renderers read, and how it is serialized.

A redacted body shares every part redaction did not change with the full document (and a
page's documents share parts with each other), so renderers must not be able to change it.
The views copy nothing: a view wraps one JSON object or array, and wraps what it hands out in
turn, so every object below a view is a read-only `Mapping` and every array a read-only
`Sequence`; strings, numbers, booleans and null are immutable anyway. `json_bytes` serializes
anything holding views at orjson's speed (orjson reads the wrapped containers directly).
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping, Sequence, ValuesView
from typing import Any, NoReturn, overload

import orjson

_MISSING = object()


def _refuse(*_: Any) -> NoReturn:
    raise AttributeError("a redacted document is read-only")


class ObjectView(Mapping[str, Any]):
    """A JSON object, read-only. Equal to the dict (or view) with the same content."""

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: dict[str, Any]) -> None:
        _SET_OBJECT(self, data)

    __setattr__ = __delattr__ = _refuse

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
        for key, value in self._mapping._data.items():
            yield key, view(value)


class _Values(ValuesView[Any]):
    __slots__ = ()
    _mapping: ObjectView

    def __iter__(self) -> Iterator[Any]:
        return map(view, self._mapping._data.values())


class ArrayView(Sequence[Any]):
    """A JSON array, read-only. Equal to the list (or view) with the same content; not a list,
    so test for `Sequence` (and not `str`) rather than `list`."""

    __slots__ = ("_data",)
    _data: list[Any] | tuple[Any, ...]

    def __init__(self, data: list[Any] | tuple[Any, ...]) -> None:
        _SET_ARRAY(self, data)

    __setattr__ = __delattr__ = _refuse

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


# The views' only writes: their one slot, once, when built (the slot's own descriptor, past
# the __setattr__ that refuses every other write).
_SET_OBJECT: Callable[[ObjectView, dict[str, Any]], None] = ObjectView.__dict__["_data"].__set__
_SET_ARRAY: Callable[[ArrayView, list[Any] | tuple[Any, ...]], None] = ArrayView.__dict__[
    "_data"
].__set__


def view(value: Any) -> Any:
    """`value` as renderers may see it: a view of an object or array, anything else as it is."""
    kind = type(value)
    if kind is dict:
        return ObjectView(value)
    if kind is list or kind is tuple:
        return ArrayView(value)
    if isinstance(value, dict):
        return ObjectView(value)
    if isinstance(value, list | tuple):
        return ArrayView(value)
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
