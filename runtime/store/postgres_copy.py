"""PostgreSQL's binary COPY format, built from a Polars frame a column at a time.

`COPY ... FROM STDIN (FORMAT binary)` reads a header, then per row an int16 field count
and per field an int32 length (-1 for NULL) followed by the value in the type's binary
"send" format, big-endian. Building that with a Python tuple per row caps near 1 M rows/s
(`DataFrame.rows()` alone costs that much), so here no Python code runs per row:

- a fixed-width column without nulls (bigint, double precision, boolean, timestamptz,
  date, interval) is a field of a NumPy structured array, written with one strided copy;
  its fields sit back to back in one fixed-size block per row, together with the row's
  field count and the length of the next variable-width field;
- every other column (text, jsonb, arrays, and fixed-width columns with nulls) is an
  Arrow binary array of the values' bytes, and `binary_join_element_wise` interleaves the
  blocks and those arrays into rows in one pass of Arrow's C++ kernels.

The columns are written fixed-width first (`CopyRows.columns` is the order to give COPY),
so most of a row is one block. The rows are one buffer with row offsets: a chunk of rows
is a zero-copy slice of it.

Values are converted as PostgreSQL's send/recv functions expect: timestamps are
microseconds and dates days since 2000-01-01, an interval is (microseconds, days,
months), jsonb is a version byte then the text, an array is its dimensions and element
type then its elements as fields. Records, and lists PostgreSQL cannot hold as arrays,
are JSON documents (see `flowc.compiler.sql.types`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from flowc.compiler.sql.spec import ColumnSpec
from flowc.dsl.types import Kind, Type

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"

_BINARY = pa.large_binary()
_EMPTY = pa.scalar(b"", _BINARY)
_POSTGRES_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_POSTGRES_EPOCH_MICROS = _POSTGRES_EPOCH_DAYS * 86_400_000_000

# Element type oids of the arrays flowc writes (pg_type.oid, fixed since PostgreSQL 7).
_OIDS = {
    Kind.INT: 20,
    Kind.FLOAT: 701,
    Kind.BOOL: 16,
    Kind.STR: 25,
    Kind.TIMESTAMP: 1184,
    Kind.DATE: 1082,
    Kind.DURATION: 1186,
}
_FIXED_KINDS = frozenset(
    {Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.TIMESTAMP, Kind.DATE, Kind.DURATION}
)

Bytes = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class CopyRows:
    """Encoded rows, back to back, ready to follow `HEADER` in a binary COPY."""

    columns: tuple[str, ...]  # the order of the fields in each row: COPY's column list
    data: Bytes
    offsets: npt.NDArray[np.int64]  # row i is data[offsets[i]:offsets[i + 1]]

    @property
    def height(self) -> int:
        return len(self.offsets) - 1

    def chunk(self, start: int, stop: int) -> memoryview:
        """Rows start..stop (exclusive) as one zero-copy buffer."""
        stop = min(stop, self.height)
        return self.data[int(self.offsets[start]) : int(self.offsets[stop])].data


def encode_rows(frame: pl.DataFrame, columns: Sequence[ColumnSpec]) -> CopyRows:
    """The frame's rows in binary COPY format, for a table with these columns.

    The frame must have every column (extra ones are ignored); values are cast to the
    column's type as the compiled plans produce them (`int` Int64, `timestamp`
    Datetime(us, UTC), ...).
    """
    ordered = sorted(columns, key=lambda c: c.type.kind not in _FIXED_KINDS)
    prepared = frame.select([_prepare(c) for c in ordered]).rechunk()
    fields = [_field(prepared.get_column(c.name).to_arrow(), c.type) for c in ordered]
    count = np.array([len(fields)], ">i2").view(np.uint8)
    rows = _join(frame.height, fields, head=count)
    data, offsets = _buffers(rows)
    return CopyRows(tuple(c.name for c in ordered), data, offsets)


# ---- from Polars to the values PostgreSQL receives ----


def postgres_array(type_: Type) -> bool:
    """Whether a list column is a PostgreSQL array (else it is stored as jsonb)."""
    return type_.elem is not None and type_.elem.kind in _OIDS


def _prepare(column: ColumnSpec) -> pl.Expr:
    """The column as the encoder expects it: canonical dtype, JSON text for documents."""
    col = pl.col(column.name)
    type_ = column.type
    kind = type_.kind
    if kind is Kind.STRUCT:
        encoded = col.struct.json_encode()
    elif kind is Kind.LIST and not postgres_array(type_):
        assert type_.elem is not None
        if type_.elem.kind is Kind.JSON:
            # The elements are JSON text already: join them, a null element is JSON null.
            inner = col.list.eval(pl.element().fill_null("null")).list.join(",")
            encoded = pl.concat_str(pl.lit("["), inner, pl.lit("]"))
        else:
            # Polars encodes records only: wrap the list in one and take its value out.
            wrapped = pl.struct(col.alias("v")).struct.json_encode()
            encoded = wrapped.str.slice(5, wrapped.str.len_chars() - 6)
    else:
        return col.cast(_dtype(type_)).alias(column.name)
    return pl.when(col.is_null()).then(None).otherwise(encoded).alias(column.name)


def _dtype(type_: Type) -> pl.DataType:
    match type_.kind:
        case Kind.INT:
            return pl.Int64()
        case Kind.FLOAT:
            return pl.Float64()
        case Kind.BOOL:
            return pl.Boolean()
        case Kind.TIMESTAMP:
            return pl.Datetime("us", "UTC")
        case Kind.DATE:
            return pl.Date()
        case Kind.DURATION:
            return pl.Duration("us")
        case Kind.LIST:
            assert type_.elem is not None
            return pl.List(_dtype(type_.elem))
        case _:
            return pl.String()


# ---- fields: a fixed-width block per row, or a prefix and a binary payload ----


@dataclass
class _Fixed:
    """A column without nulls whose values all have the same width.

    `values` is one number per row, written as `code` (big-endian: NumPy swaps the bytes
    while packing the row blocks), or a (rows, width) array of bytes when `code` is "u1".
    """

    code: str
    values: npt.NDArray[Any]

    @property
    def width(self) -> int:
        return int(
            np.dtype(self.code).itemsize * (self.values.shape[1] if self.values.ndim > 1 else 1)
        )

    def big_endian(self) -> Bytes:
        """The values' bytes, (rows, width)."""
        return self.values.astype(self.code).view(np.uint8).reshape(len(self.values), self.width)


@dataclass
class _Variable:
    """A column of byte strings: its int32 lengths (-1 for NULL) and the bytes."""

    lengths: npt.NDArray[np.int32]
    payload: Any  # pa.LargeBinaryArray; null where the value is NULL


def _field(array: Any, type_: Type) -> _Fixed | _Variable:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = type_.kind
    if kind in _FIXED_KINDS:
        values = _fixed_values(array, kind)
        if array.null_count == 0:
            return values
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        return _Variable(*_fixed_with_nulls(values.big_endian(), valid))
    if kind is Kind.LIST and postgres_array(type_):
        assert type_.elem is not None
        payload = _arrays(array, type_.elem)
    else:
        payload = array.cast(_BINARY)
        if kind in (Kind.JSON, Kind.STRUCT, Kind.LIST):
            # jsonb's binary format: version 1, then the text.
            version = pa.scalar(b"\x01", _BINARY)
            payload = pc.binary_join_element_wise(version, payload, _EMPTY)
    lengths = pc.fill_null(pc.binary_length(payload), -1).to_numpy(zero_copy_only=False)
    return _Variable(lengths.astype(np.int32), payload)


def _fixed_values(array: Any, kind: Kind) -> _Fixed:
    """Each value as PostgreSQL receives it (anything where the value is NULL)."""
    rows = len(array)
    if kind is Kind.BOOL:
        flags = pc.fill_null(array, False).to_numpy(zero_copy_only=False)
        return _Fixed("u1", flags.view(np.uint8).reshape(rows, 1))
    if kind is Kind.FLOAT:
        return _Fixed(">f8", pc.fill_null(array, 0.0).to_numpy(zero_copy_only=False))
    if kind is Kind.DATE:
        days = pc.fill_null(array.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        return _Fixed(">i4", days - np.int32(_POSTGRES_EPOCH_DAYS))
    integers = pc.fill_null(array.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    if kind is Kind.TIMESTAMP:
        return _Fixed(">i8", integers - np.int64(_POSTGRES_EPOCH_MICROS))
    if kind is Kind.INT:
        return _Fixed(">i8", integers)
    # An interval is (microseconds, days, months): a duration is all microseconds.
    interval = np.zeros((rows, 16), np.uint8)
    interval[:, :8] = integers.astype(">i8").view(np.uint8).reshape(rows, 8)
    return _Fixed("u1", interval)


def _fixed_with_nulls(values: Bytes, valid: npt.NDArray[np.bool_]) -> tuple[Any, Any]:
    """A fixed-width column with NULLs as lengths and a binary array (empty for NULL)."""
    rows, width = values.shape
    sizes = np.where(valid, width, 0).astype(np.int64)
    offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    payload = _binary_array(values[valid].reshape(-1), offsets)
    return np.where(valid, width, -1).astype(np.int32), payload


def _arrays(lists: Any, elem: Type) -> Any:
    """PostgreSQL arrays (one dimension, lower bound 1) in binary, null where the list is."""
    rows = len(lists)
    sizes = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    elements = _field(lists.flatten(), elem)
    encoded = _join(_height(elements), [elements])
    offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    grouped = pa.LargeListArray.from_arrays(pa.array(offsets), encoded)
    body = pc.binary_join(grouped, _EMPTY)
    # Header: ndim, has-null flag (informative: NULL elements are read by their -1
    # length), element type, then the dimension's size and lower bound when not empty.
    header = np.zeros((rows, 5), ">i4")
    header[:, 0] = sizes > 0
    header[:, 2] = _OIDS[elem.kind]
    header[:, 3] = sizes
    header[:, 4] = 1
    header_bytes = header.view(np.uint8).reshape(rows, 20)
    keep = np.ones((rows, 20), bool)
    keep[sizes == 0, 12:] = False
    header_offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(np.where(sizes > 0, 20, 12), out=header_offsets[1:])
    headers = _binary_array(header_bytes[keep], header_offsets)
    arrays = pc.binary_join_element_wise(headers, body, _EMPTY)
    return pc.if_else(lists.is_valid(), arrays, pa.scalar(None, _BINARY))


# ---- rows ----


def _height(field: _Fixed | _Variable) -> int:
    return len(field.values) if isinstance(field, _Fixed) else len(field.lengths)


def _join(rows: int, fields: Sequence[_Fixed | _Variable], head: Bytes | None = None) -> Any:
    """Interleave the fields into one binary value per row (`head` first in each).

    Fixed fields, the head and the length of the variable field after them share one
    structured block per row; each variable field's bytes are a separate input of
    `binary_join_element_wise`, followed by the block holding the next one's length.
    """
    inputs: list[Any] = []
    block: list[tuple[str, tuple[int, ...], Any]] = []
    if head is not None:
        block.append(("u1", (len(head),), np.broadcast_to(head, (rows, len(head)))))
    for field in fields:
        if isinstance(field, _Fixed):
            block.append((">i4", (), np.int32(field.width)))
            shape = field.values.shape[1:]
            block.append((field.code, shape, field.values))
            continue
        block.append((">i4", (), field.lengths))
        inputs.append(_block(rows, block))
        inputs.append(pc.fill_null(field.payload, _EMPTY))
        block = []
    if block:
        inputs.append(_block(rows, block))
    if len(inputs) == 1:
        return inputs[0]
    return pc.binary_join_element_wise(*inputs, _EMPTY)


def _block(rows: int, parts: Sequence[tuple[str, Any, Any]]) -> Any:
    """One fixed-size binary value per row, packed from the parts in order."""
    dtype = np.dtype([(f"f{i}", code, shape) for i, (code, shape, _) in enumerate(parts)])
    packed = np.empty(rows, dtype)
    for i, (_, _, values) in enumerate(parts):
        packed[f"f{i}"] = values
    flat = packed.view(np.uint8)
    return _binary_array(flat, np.arange(rows + 1, dtype=np.int64) * dtype.itemsize)


def _binary_array(data: Bytes, offsets: npt.NDArray[np.int64]) -> Any:
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    return pa.Array.from_buffers(_BINARY, len(offsets) - 1, buffers)


def _buffers(array: Any) -> tuple[Bytes, npt.NDArray[np.int64]]:
    """The data and offsets of a binary array, without copying, rebased to start at 0."""
    rows = len(array)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64, count=rows + 1, offset=array.offset * 8)
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    )
    start = int(offsets[0])
    return data[start : int(offsets[-1])], offsets - start
