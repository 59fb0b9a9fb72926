"""The raw asyncpg side of the data-access toolkit: connection type, jsonb codec, bulk insert.

Services write their hot SQL on the asyncpg connection under a SQLAlchemy transaction
(`raw_connection`): ``$1`` parameters, arrays, one statement per table per batch. These helpers
are the pieces every store needs, written once.

**Bulk insert.** Rows go in as one ``INSERT … SELECT … FROM unnest($1::t1[], $2::t2[], …)``
per table: one round trip whatever the number of rows, and unlike ``copy_records_to_table`` it
keeps ``ON CONFLICT`` (a batch processed again after a crash adds nothing) and needs no
temporary table; ``executemany`` costs a round trip's worth of server work per row.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any, TypeAlias, Union, get_args, get_origin, get_type_hints

import orjson

__all__ = [
    "BulkInsert",
    "Pg",
    "dataclass_columns",
    "json_dumps",
    "json_list",
    "json_object",
    "transpose",
]

Pg: TypeAlias = Any
"""An ``asyncpg.Connection`` (asyncpg ships no type hints)."""

_PG_TYPES: dict[type, str] = {
    str: "text", bool: "bool", int: "int", float: "float8", datetime: "timestamptz",
    date: "date", bytes: "bytea",
}  # fmt: skip


def json_dumps(value: Any) -> str:
    """A value as JSON text for a ``jsonb`` parameter (cast in SQL: ``CAST($n AS jsonb)``).

    >>> json_dumps(["NPS 3 (detractor)"])
    '["NPS 3 (detractor)"]'
    """
    return orjson.dumps(value).decode()


def _loads(value: Any) -> Any:
    # asyncpg returns json/jsonb as text unless a codec is set; SQLAlchemy's adapter sets one
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def json_list(value: Any) -> list[Any]:
    """A ``jsonb`` array column as a list, whether the driver decoded it or not (NULL: []).

    >>> json_list('["a", 1]'), json_list(["a"]), json_list(None)
    (['a', 1], ['a'], [])
    """
    return list(_loads(value) or [])


def json_object(value: Any) -> dict[str, Any]:
    """A ``jsonb`` object column as a dict with string keys, decoded or not; `TypeError` for
    anything but an object.

    >>> json_object('{"a": 1}'), json_object({"b": 2})
    ({'a': 1}, {'b': 2})
    >>> json_object("[1]")
    Traceback (most recent call last):
    TypeError: expected a JSON object, got list
    """
    loaded = _loads(value)
    if not isinstance(loaded, dict):
        raise TypeError(f"expected a JSON object, got {type(loaded).__name__}")
    return {str(k): v for k, v in loaded.items()}


def transpose(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows (tuples of ``width`` values) as ``width`` column lists: the array parameters of
    an ``unnest`` statement (also for zero rows).

    >>> transpose([("x", 1), ("y", 2)], 2), transpose([], 2)
    ([['x', 'y'], [1, 2]], [[], []])
    """
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for col, value in zip(cols, row, strict=True):
            col.append(value)
    return cols


def _pg_type(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        (hint,) = [a for a in get_args(hint) if a is not type(None)]
    return _PG_TYPES[hint]


def dataclass_columns(
    cls: type, overrides: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """``(column, PostgreSQL type)`` for each field of the dataclass ``cls``, in field order:
    the field's name, the type from its annotation (``X | None`` as ``X``) unless ``overrides``
    names it.

    >>> @dataclasses.dataclass
    ... class Row:
    ...     id: str
    ...     n: int | None
    ...     at: datetime
    >>> dataclass_columns(Row, {"n": "bigint"})
    (('id', 'text'), ('n', 'bigint'), ('at', 'timestamptz'))
    """
    hints = get_type_hints(cls)
    extra = overrides or {}
    return tuple(
        (f.name, extra.get(f.name) or _pg_type(hints[f.name])) for f in dataclasses.fields(cls)
    )


@dataclasses.dataclass(frozen=True, slots=True)
class BulkInsert:
    """One ``INSERT … SELECT … FROM unnest(…)`` statement for many rows of ``table``.

    ``columns``: ``(name, PostgreSQL type)`` in row order; ``casts``: a column sent as another
    type and cast in SQL (jsonb sent as text); ``conflict``: the clause after the select.

    >>> BulkInsert("t", (("a", "text"), ("b", "int")), conflict="ON CONFLICT DO NOTHING").sql
    'INSERT INTO t (a, b) SELECT u.a, u.b FROM unnest($1::text[], $2::int[]) AS u(a, b) ON CONFLICT DO NOTHING'
    >>> BulkInsert("t", (("d", "text"),), casts={"d": "jsonb"}).sql
    'INSERT INTO t (d) SELECT CAST(u.d AS jsonb) FROM unnest($1::text[]) AS u(d)'
    """  # noqa: E501

    table: str
    columns: tuple[tuple[str, str], ...]
    conflict: str = ""
    casts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    sql: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        names = [name for name, _ in self.columns]
        select = ", ".join(
            f"CAST(u.{n} AS {self.casts[n]})" if n in self.casts else f"u.{n}" for n in names
        )
        arrays = ", ".join(f"${i + 1}::{kind}[]" for i, (_, kind) in enumerate(self.columns))
        sql = (
            f"INSERT INTO {self.table} ({', '.join(names)}) SELECT {select}"
            f" FROM unnest({arrays}) AS u({', '.join(names)})"
        )
        object.__setattr__(self, "sql", f"{sql} {self.conflict}" if self.conflict else sql)

    @classmethod
    def of(
        cls, row_type: type, table: str, *, conflict: str = "",
        types: Mapping[str, str] | None = None, casts: Mapping[str, str] | None = None,
    ) -> BulkInsert:  # fmt: skip
        """The statement for rows of the dataclass ``row_type``: its fields are the columns
        (`dataclass_columns`, ``types`` overriding)."""
        return cls(table, dataclass_columns(row_type, types), conflict, dict(casts or {}))

    def arrays(self, rows: Sequence[Any]) -> list[list[Any]]:
        """The statement's parameters: one list per column. ``rows`` are tuples in column order
        or instances of a dataclass whose fields are the columns.

        >>> BulkInsert("t", (("a", "text"), ("b", "int"))).arrays([("x", 1), ("y", 2)])
        [['x', 'y'], [1, 2]]
        """
        width = len(self.columns)
        if rows and dataclasses.is_dataclass(rows[0]):
            get = attrgetter(*(name for name, _ in self.columns))
            rows = [get(r) for r in rows] if width > 1 else [(get(r),) for r in rows]
        return transpose(rows, width)

    async def run(self, pg: Pg, rows: Sequence[Any]) -> None:
        """Insert ``rows`` (nothing to do when empty)."""
        if rows:
            await pg.execute(self.sql, *self.arrays(rows))
