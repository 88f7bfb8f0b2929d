"""The fast paths' view of moto's answers: an ``AttributeValue`` written directly for moto's
JSON serializer (:func:`_fast_structure`), and moto's results turned into what botocore's
parser would return without the JSON in between (:func:`_parsed`, used by the direct path).

Part of :mod:`emulator.motofast` (its docstring says why each exists).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})


def _string(value: Any) -> Any:
    """What moto's JSON serializer writes for a string shape."""
    return str(value) if value not in [None, {}, []] else value


def _attribute_value(serializer: Any, value: Any) -> Any:
    """One ``AttributeValue`` as moto's generic serializer writes it; ``None`` when the fast
    path does not know the value's form (the caller then takes the generic path)."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if inner is None:
        return {}  # a member that is None is left out of its structure
    if kind in ("S", "N"):
        return {kind: _string(inner)}
    if kind in _SCALARS:
        return {kind: inner}
    if kind == "M" and type(inner) is dict:
        members = {}
        for key, member in inner.items():
            if member is None:
                continue
            written = _attribute_value(serializer, member)
            if written is None:
                return None
            members[key] = written
        return {"M": members}
    if kind == "L" and type(inner) is list:
        elements = []
        for element in inner:
            written = element if element is None else _attribute_value(serializer, element)
            if element is not None and written is None:
                return None
            elements.append(written)
        return {"L": elements}
    if kind in ("SS", "NS") and type(inner) is list:
        return {kind: [_string(v) for v in inner]}
    if kind == "B":
        return {"B": serializer._base64(inner)}
    if kind == "BS" and type(inner) is list:
        return {"BS": [serializer._base64(v) for v in inner]}
    return None


def _fast_structure(generic: Callable[..., None]) -> Callable[..., None]:
    def _serialize_structure(
        self: Any, serialized: dict[str, Any], value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == "AttributeValue":
            written = _attribute_value(self, value)
            if written is not None:
                serialized[shape.serialization.get("name", key)] = written
                return
        generic(self, serialized, value, shape, key)

    return _serialize_structure


class _FallbackError(Exception):
    """The direct path met a value it does not know: the generic serializer and parser
    answer instead."""


class _AsParsed:
    """Stands in for moto's serializer in :func:`_attribute_value`: a blob as botocore hands
    it to the caller after decoding what moto's serializer base64-encoded."""

    @staticmethod
    def _base64(value: Any) -> bytes:
        return value if isinstance(value, bytes) else str(value).encode("utf-8")


_AS_PARSED = _AsParsed()


def _dynamo_parsed(value: Any) -> Any:
    """A moto ``DynamoType`` as :func:`_parsed` returns the ``AttributeValue`` that
    ``dynamo_to_dict`` makes of it (blobs stored as base64 text are decoded, as there)."""
    kind, inner = value.type, value.value
    if inner is None:
        return {}
    if kind in ("S", "N"):
        return {kind: _string(inner)}
    if kind in ("BOOL", "NULL"):
        return {kind: inner}
    if kind == "M" and type(inner) is dict:
        return {"M": {key: _dynamo_parsed(member) for key, member in inner.items()}}
    if kind == "L" and type(inner) is list:
        return {"L": [_dynamo_parsed(element) for element in inner]}
    if kind in ("SS", "NS") and type(inner) is list:
        return {kind: [_string(element) for element in inner]}
    if kind == "B":
        return {"B": inner if isinstance(inner, bytes) else base64.b64decode(inner)}
    if kind == "BS" and type(inner) is list:
        return {"BS": [v if isinstance(v, bytes) else base64.b64decode(v) for v in inner]}
    raise _FallbackError


def _parsed(shape: Any, value: Any) -> Any:
    """``value`` (a moto result) as botocore's parser returns it after moto's JSON
    serializer wrote it for ``shape``: members that are None left out, strings ``str``,
    numbers ``int``/``float``, blobs bytes, attribute values by :func:`_attribute_value`
    (moto's ``DynamoType`` objects by :func:`_dynamo_parsed`)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.name == "AttributeValue":
            if type(value) is _DYNAMO_TYPE[0]:
                return _dynamo_parsed(value)
            written = _attribute_value(_AS_PARSED, value)
            if written is None:
                raise _FallbackError
            return written
        if not isinstance(value, dict):
            raise _FallbackError
        answer = {}
        for name, member in shape.members.items():
            inner = value.get(name)
            if inner is not None:
                answer[name] = _parsed(member, inner)
        return answer
    if kind == "list":
        if type(value) is not list or any(element is None for element in value):
            raise _FallbackError
        return [_parsed(shape.member, element) for element in value]
    if kind == "map":
        if not isinstance(value, dict) or any(element is None for element in value.values()):
            raise _FallbackError
        return {str(key): _parsed(shape.value, element) for key, element in value.items()}
    if kind == "string" and type(value) is str:
        return value
    if kind in ("integer", "long") and type(value) is int:
        return value
    if kind in ("double", "float") and type(value) in (int, float):
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    if kind == "blob" and type(value) in (bytes, str):
        return _AsParsed._base64(value)
    raise _FallbackError  # anything else (timestamps, documents, objects): moto's serializer


_DYNAMO_TYPE: list[type] = []  # moto's DynamoType, set when the fast paths are installed


def _lazy_result(generic: Callable[..., Any]) -> Callable[..., Any]:
    """``DynamoResult.__init__`` converts a result's ``DynamoType``s to dicts (every item,
    every attribute) for moto's serializer; the direct path reads them as they are, so the
    conversion waits until the serializer runs (:func:`_converted_first`)."""

    def init(self: Any, result: object) -> None:
        self._result = result

    return init


def _converted_first(generic: Callable[..., Any]) -> Callable[..., Any]:
    def execute_result(self: Any, context: Any) -> Any:
        from moto.dynamodb.models.utilities import dynamo_to_dict

        self._result = dynamo_to_dict(self._result)
        return generic(self, context)

    return execute_result
