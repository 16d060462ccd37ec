"""botbuilder's schema objects (``Activity``, ``ConversationReference``...) from JSON, as
msrest's ``Model.deserialize`` makes them, at a small part of its cost.

msrest deserialises generically: for every call it collects the module's 71 model classes,
builds a ``Deserializer``, and then, for every attribute of every nested model, copies the
attribute's description, runs three key extractors and dispatches on the type's name. For
one incoming Teams message that was about 0.6 ms, and every reply built its activity and
conversation reference that way again (issue 18: a tenth of the Teams bench's CPU was
msrest). Here each model's attributes are read off its ``_attribute_map`` once, and JSON
(dicts, lists, strings, numbers) is converted directly, with msrest's own rules: strings by
``str``, booleans from ``true``/``false``/``1``/``0``, ISO 8601 times as msrest reads them,
``object`` values copied, keys a model does not know kept in ``additional_properties``.

Anything else (a value of a type JSON does not make, a model with validation rules or
subtypes) goes to msrest itself, so the result is always what msrest would make;
``tests/adapters/teams/test_schema.py`` compares the two on every recorded activity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

import botbuilder.schema
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from msrest.serialization import Deserializer, Model, Serializer

M = TypeVar("M", bound=Model)

# The classes msrest resolves type names against: every class of botbuilder.schema, as
# Model.deserialize collects them for its models (Activity, ConversationReference...).
_MODELS: dict[str, type] = {
    name: value for name, value in vars(botbuilder.schema).items() if isinstance(value, type)
}
_MSREST = Deserializer(_MODELS)  # type: ignore[no-untyped-call]


class _Fallback(Exception):
    """This value is not plain JSON of the expected shape: let msrest decide."""


def activity(data: Any) -> Activity:
    """``Activity().deserialize(data)``, faster."""
    return from_json(Activity, data)


def conversation_reference(data: Any) -> ConversationReference:
    """``ConversationReference().deserialize(data)``, faster."""
    return from_json(ConversationReference, data)


def from_json(model: type[M], data: Any) -> M:
    """What msrest's ``model().deserialize(data)`` returns for JSON ``data``; raises msrest's
    ``DeserializationError`` where it would."""
    try:
        return cast("M", _model(model.__name__, data))
    except _Fallback:
        return cast("M", _MSREST(model.__name__, data))


def _model(name: str, data: Any) -> Model:
    if not isinstance(data, dict):
        raise _Fallback
    cls, attributes, known = _shape(name)
    values = {}
    for attribute, key, convert in attributes:
        raw = data.get(key)
        values[attribute] = None if raw is None else convert(raw)
    made: Model = cls(**values)
    if not known.issuperset(data):  # msrest keeps the keys it does not know, uncopied
        made.additional_properties = {key: value for key, value in data.items() if key not in known}
    return made


@cache
def _shape(name: str) -> tuple[type, list[tuple[str, str, Callable[[Any], Any]]], frozenset[str]]:
    """A model's class, its (attribute, JSON key, converter) triples and its known keys."""
    cls = _MODELS[name]
    if not isinstance(cls, type) or not issubclass(cls, Model):
        raise _Fallback
    if getattr(cls, "_validation", None) or getattr(cls, "_subtype_map", None):
        raise _Fallback  # readonly or constant attributes, polymorphism: msrest's business
    attributes = []
    for attribute, description in cls._attribute_map.items():
        key = description["key"]
        if not key or "." in key:
            raise _Fallback  # additional properties as an attribute, flattened keys
        attributes.append((attribute, key, _converter(description["type"])))
    return cls, attributes, frozenset(key for _, key, _ in attributes)


def _converter(kind: str) -> Callable[[Any], Any]:
    if kind == "str":
        return _string
    if kind == "bool":
        return _boolean
    if kind in ("int", "float"):
        return _number(kind)
    if kind == "object":
        return _object
    if kind == "iso-8601":
        return _instant
    if kind.startswith("[") and kind.endswith("]"):
        item = _converter(kind[1:-1])
        return lambda value: _each(value, item)
    if kind.startswith("{") and kind.endswith("}"):
        item = _converter(kind[1:-1])
        return lambda value: _entries(value, item)
    if kind in _MODELS and not issubclass(_MODELS[kind], Enum):
        return lambda value: _model(kind, value)
    raise _Fallback


def _string(value: Any) -> Any:
    if type(value) is str or isinstance(value, Enum):
        return value
    if isinstance(value, int | float):  # msrest's str() of a number; nothing else is JSON
        return str(value)
    raise _Fallback


def _boolean(value: Any) -> bool:
    if value in (True, False, 1, 0) and type(value) in (bool, int):
        return bool(value)
    raise _Fallback  # "true" and "1" in strings, and the errors: as msrest says


def _number(kind: str) -> Callable[[Any], Any]:
    exact = int if kind == "int" else float

    def convert(value: Any) -> Any:
        if type(value) in (int, float):
            return exact(value)
        raise _Fallback

    return convert


def _object(value: Any) -> Any:
    """msrest's ``deserialize_object``: a copy of the JSON value, built from plain types."""
    kind = type(value)
    if kind is dict:
        return {key: _object(item) for key, item in value.items()}
    if kind is list:
        return [_object(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    raise _Fallback


def _instant(value: Any) -> Any:
    """The time msrest reads (isodate's parser, fractions cut to microseconds), by Python's
    own parser where msrest's pattern accepts the text: the same instant, at a tenth of the
    cost; its zone is a ``datetime.timezone`` rather than isodate's equal one."""
    if type(value) is not str or not Deserializer.valid_date.match(value.upper()):
        raise _Fallback  # msrest says what is wrong, in its own words
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return Deserializer.deserialize_iso(value)  # type: ignore[no-untyped-call]
    except DeserializationError:
        raise _Fallback from None


def _each(value: Any, item: Callable[[Any], Any]) -> list[Any]:
    if type(value) is not list:
        raise _Fallback
    return [None if element is None else item(element) for element in value]


def _entries(value: Any, item: Callable[[Any], Any]) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Fallback
    return {key: None if element is None else item(element) for key, element in value.items()}


__all__ = ["activity", "conversation_reference", "from_json"]


# ---------------------------------------------------------------- and back to JSON


class QuickSerializer(Serializer):
    """msrest's ``Serializer``, whose ``body`` for one of botbuilder's models (the activity
    of every reply and card update) is :func:`to_json`: the same JSON, without msrest's
    generic walk, which was the larger part of what sending a reply cost. Anything else,
    and anything :func:`to_json` is unsure of, is msrest's own."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if not kwargs and isinstance(data, Model) and type(data).__name__ == data_type:
            try:
                return _json_model(data)
            except _Fallback:
                pass
        return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]


def quicken(serializer: Any) -> None:
    """Make botbuilder's ``ConnectorClient`` serializer (shared by its operations) a
    :class:`QuickSerializer`: the same object and settings, a faster ``body``."""
    if type(serializer) is Serializer:
        serializer.__class__ = QuickSerializer


def to_json(model: Model) -> dict[str, Any]:
    """What msrest's ``Serializer.body(model, its type's name)`` makes of ``model``."""
    try:
        return _json_model(model)
    except _Fallback:
        found = _MSREST_OUT.body(model, type(model).__name__)  # type: ignore[no-untyped-call]
        return cast("dict[str, Any]", found)


_MSREST_OUT = Serializer(_MODELS)  # type: ignore[no-untyped-call]


def _json_model(model: Any) -> dict[str, Any]:
    if _MODELS.get(type(model).__name__) is not type(model):
        raise _Fallback  # not one of botbuilder.schema's own classes
    out: dict[str, Any] = {}
    for attribute, key, convert in _out_shape(type(model).__name__):
        value = getattr(model, attribute, None)
        if value is not None:
            out[key] = convert(value)
    return out


@cache
def _out_shape(name: str) -> list[tuple[str, str, Callable[[Any], Any]]]:
    cls = _MODELS.get(name)
    if cls is None or not issubclass(cls, Model):
        raise _Fallback
    if getattr(cls, "_validation", None) or getattr(cls, "_subtype_map", None):
        raise _Fallback
    shape = []
    for attribute, description in cls._attribute_map.items():
        key = description["key"]
        if not key or "." in key:
            raise _Fallback
        shape.append((attribute, key, _out_converter(description["type"])))
    return shape


def _out_converter(kind: str) -> Callable[[Any], Any]:
    if kind == "str":
        return _out_string
    if kind in ("bool", "int", "float"):
        exact = {"bool": bool, "int": int, "float": float}[kind]

        def basic(value: Any) -> Any:
            if type(value) is not exact:
                raise _Fallback
            return value

        return basic
    if kind == "object":
        return _out_object
    if kind == "iso-8601":
        return _out_instant
    if kind.startswith("[") and kind.endswith("]"):
        item = _out_converter(kind[1:-1])
        return lambda value: _out_each(value, item)
    if kind.startswith("{") and kind.endswith("}"):
        item = _out_converter(kind[1:-1])
        return lambda value: _out_entries(value, item)
    if kind in _MODELS and not issubclass(_MODELS[kind], Enum):
        return _json_model
    raise _Fallback


def _out_string(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, Enum):
        return value.value
    raise _Fallback


def _out_object(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _Fallback
        return {key: _out_object(item) for key, item in value.items()}
    if kind is list:
        return [_out_object(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    raise _Fallback


def _out_instant(value: Any) -> Any:
    if type(value) is not datetime:
        raise _Fallback
    return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]


def _out_each(value: Any, item: Callable[[Any], Any]) -> list[Any]:
    if type(value) is not list:
        raise _Fallback
    return [None if element is None else item(element) for element in value]


def _out_entries(value: Any, item: Callable[[Any], Any]) -> dict[str, Any]:
    if type(value) is not dict or not all(type(key) is str for key in value):
        raise _Fallback
    return {key: None if element is None else item(element) for key, element in value.items()}
