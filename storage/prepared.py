"""Statements every request runs, compiled once and run on the raw sqlite3 connection.

A search with its busy times cached sends a handful of small indexed statements (whom the
speaker knows, the connections' summaries, the meetings in the window, the offer, the inbox
row and its completion). On a SQLite file SQLite runs each in tens of microseconds, while
SQLAlchemy's machinery around one (its parameters compiled again, an execution context,
result metadata, a pooled connection checked out and closed) cost about 150 µs of CPU more.

:class:`Prepared` keeps the Core statement as the only source of the SQL: it is compiled
once for the dialect (and once per set of parameter names, which an INSERT without
``values()`` takes its columns from, and per length of each bound list), and each run
converts the parameters with the same type processors SQLAlchemy would use, binds them
positionally, and builds each row with the columns' result processors as a named tuple
(``row.id``, ``row[0]``). A statement this cannot run exactly as SQLAlchemy would (a Python
side default or ``onupdate`` to compute, a literal-rendered parameter, an empty bound list)
is left to SQLAlchemy: :meth:`Prepared.form` answers None for it.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TupleType

Processor = Callable[[Any], Any] | None
_EXPANDING = "__[POSTCOMPILE_{}]"
_REQUIRED = object()  # a bind parameter the caller must give
_SCALAR, _LIST, _TUPLES = range(3)  # how a parameter binds: one value, a list, a list of tuples


class Prepared:
    """A Core statement for :meth:`storage.database.Database.rows` and ``write``: the same
    statement, compiled once per dialect where the database runs it without SQLAlchemy
    (a SQLite file). Build it once, at import time, like the statement itself."""

    __slots__ = ("_forms", "_shapes", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._shapes: dict[tuple[type[Dialect], tuple[str, ...]], _Shape | None] = {}
        self._forms: dict[tuple[int, tuple[int, ...]], Form | None] = {}

    def form(self, dialect: Dialect, parameters: Mapping[str, Any]) -> Form | None:
        """The SQL and converters for these parameters (the names an INSERT takes its
        columns from, the lengths of bound lists); None for a run SQLAlchemy must do."""
        names = tuple(parameters)
        key = (type(dialect), names)
        try:
            shape = self._shapes[key]
        except KeyError:
            shape = self._shapes[key] = _Shape.compile(self.statement, dialect, names)
        if shape is None:
            return None
        lengths = tuple(
            len(parameters[name] if name in parameters else shape.binds[name][2])
            for name in shape.expanding
        )
        if 0 in lengths:
            return None  # SQLAlchemy renders an empty set of its own; rare on these paths
        form_key = (id(shape), lengths)
        try:
            return self._forms[form_key]
        except KeyError:
            form = self._forms[form_key] = shape.expand(
                dict(zip(shape.expanding, lengths, strict=True))
            )
            return form


@dataclass(frozen=True, slots=True)
class Form:
    """One statement's SQL for one shape of its parameters, ready to run."""

    sql: str
    # Per positional parameter group: its name, how it binds, its processor(s), its value
    # when the statement holds it (a literal) rather than the caller.
    binds: tuple[tuple[str, int, Any, Any], ...]
    # Result rows: a named tuple type and each column's processor (None: no rows returned).
    row: type[tuple[Any, ...]] | None
    results: tuple[Processor, ...]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments, converted as SQLAlchemy converts them."""
        arguments: list[Any] = []
        for name, how, processor, fixed in self.binds:
            value = parameters.get(name, fixed)
            if value is _REQUIRED:
                raise KeyError(f"a value is required for bind parameter {name!r}")
            if how == _SCALAR:
                arguments.append(value if processor is None else processor(value))
            elif how == _LIST:
                arguments.extend(value if processor is None else map(processor, value))
            else:
                for values in value:
                    arguments.extend(
                        item if convert is None else convert(item)
                        for item, convert in zip(values, processor, strict=True)
                    )
        return arguments

    def rows(self, fetched: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Rows as SQLAlchemy would type them, with attribute access by column key."""
        row = self.row
        assert row is not None
        results = self.results
        if not any(results):
            return [tuple.__new__(row, values) for values in fetched]
        return [
            tuple.__new__(
                row,
                [
                    value if convert is None else convert(value)
                    for value, convert in zip(values, results, strict=True)
                ],
            )
            for values in fetched
        ]


@dataclass(frozen=True, slots=True)
class _Shape:
    """A statement compiled for one dialect and one set of parameter names."""

    sql: str
    positions: tuple[str, ...]
    expanding: tuple[str, ...]
    binds: dict[str, tuple[int, Any, Any]]
    row: type[tuple[Any, ...]] | None
    results: tuple[Processor, ...]
    tuples_as_values: bool

    @staticmethod
    def compile(statement: Executable, dialect: Dialect, names: Sequence[str]) -> _Shape | None:
        compiled = cast("ClauseElement", statement).compile(
            dialect=dialect, column_keys=list(names)
        )
        assert isinstance(compiled, SQLCompiler)
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.positiontup is None
        ):
            return None  # defaults computed in Python, or literals rendered at run time
        binds: dict[str, tuple[int, Any, Any]] = {}
        expanding: list[str] = []
        for name in dict.fromkeys(compiled.positiontup):
            bind = compiled.binds[name]
            if bind.callable is not None:
                return None  # a value computed at each run
            fixed = _REQUIRED if bind.required else bind.value
            if not bind.expanding:
                binds[name] = (_SCALAR, _bind_processor(bind.type, dialect), fixed)
                continue
            expanding.append(name)
            if isinstance(bind.type, TupleType):
                processors = tuple(_bind_processor(item, dialect) for item in bind.type.types)
                binds[name] = (_TUPLES, processors, fixed)
            else:
                binds[name] = (_LIST, _bind_processor(bind.type, dialect), fixed)
        row, results = _results(statement, dialect)
        return _Shape(
            sql=compiled.string,
            positions=tuple(compiled.positiontup),
            expanding=tuple(expanding),
            binds=binds,
            row=row,
            results=results,
            tuples_as_values=bool(dialect.tuple_in_values),
        )

    def expand(self, lengths: Mapping[str, int]) -> Form:
        """The SQL with each bound list written out as ``?`` marks for its length (as
        SQLAlchemy writes it: ``?, ?`` or, for tuples, ``VALUES (?, ?), (?, ?)``)."""
        sql = self.sql
        for name, length in lengths.items():
            how, processors, _ = self.binds[name]
            if how == _LIST:
                marks = ", ".join("?" * length)
            else:
                one = "(" + ", ".join("?" * len(processors)) + ")"
                marks = ("VALUES " if self.tuples_as_values else "") + ", ".join([one] * length)
            sql = sql.replace(_EXPANDING.format(name), marks)
        if re.search(r"__\[POSTCOMPILE_", sql):
            raise AssertionError(f"a parameter left unexpanded in {sql!r}")
        binds = tuple((name, *self.binds[name]) for name in self.positions)
        return Form(sql=sql, binds=binds, row=self.row, results=self.results)


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    """What SQLAlchemy runs on a parameter of this type for this dialect (a TypeDecorator's
    ``process_bind_param`` chained with its dialect's own conversion)."""
    processor: Processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _results(
    statement: Executable, dialect: Dialect
) -> tuple[type[tuple[Any, ...]] | None, tuple[Processor, ...]]:
    """The named tuple of a statement's rows (a SELECT's columns, or a RETURNING clause's)
    and each column's result processor; (None, ()) for a statement that returns no rows."""
    columns = getattr(statement, "exported_columns", None)
    if not columns:
        return None, ()
    keys = list(columns.keys())
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return namedtuple("Row", keys, rename=True), processors  # noqa: PYI024 - names known at run time
