"""PostgreSQL's binary COPY format, built a column at a time from Arrow arrays.

A row is an int16 field count, then each field as an int32 byte length (-1: NULL) and the
value in the type's binary form (big-endian integers and floats, days and microseconds
since 2000-01-01, jsonb as a version byte and its text). PostgreSQL then only copies bytes:
no text to parse, and geometries arrive as the EWKB PostGIS stores (hex text takes it
longer to read than to store, and us as long to write).

rows(columns, kinds) -> the bytes of one chunk of rows; SIGNATURE before the first, TRAILER
after the last.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # then int32 flags and header extension
TRAILER = b"\xff\xff"
JSONB_VERSION = b"\x01"
_EPOCH_2000_DAYS = 10_957  # 1970-01-01 -> 2000-01-01
_EPOCH_2000_US = _EPOCH_2000_DAYS * 86_400_000_000
_FIXED = {"integer": ">i8", "number": ">f8", "boolean": "u1", "date": ">i4", "datetime": ">i8"}
_NOTHING = pa.scalar(b"", pa.large_binary())


def rows(columns: Sequence[pa.Array], kinds: Sequence[str]) -> memoryview:
    """kinds: one of _FIXED's, "string", "json" or "binary" (bytes as they are: EWKB)."""
    count = len(columns[0]) if columns else 0
    if not count:
        return memoryview(b"")
    parts = [_constant(np.array(len(columns), ">i2").tobytes(), count)]
    for values, kind in zip(columns, kinds, strict=True):
        parts.extend(_field(values, kind))
    joined = pc.binary_join_element_wise(*parts, _NOTHING)
    end = int(np.frombuffer(joined.buffers()[1], np.int64)[joined.offset + count])
    return memoryview(joined.buffers()[2])[:end]


def _field(values: pa.Array, kind: str) -> list[pa.Array]:
    valid = _validity(values)
    if kind in _FIXED:
        data = _fixed_values(values, kind)
        width = data.dtype.itemsize
        matrix = np.empty((len(values), 4 + width), np.uint8)
        matrix[:, :4] = _lengths(np.full(len(values), width), valid)
        matrix[:, 4:] = data.view(np.uint8).reshape(len(values), width)
        return [_ragged(matrix, np.where(valid, 4 + width, 4))]
    data = values.cast(pa.large_string()) if kind in ("string", "json") else values
    data = pc.fill_null(data.cast(pa.large_binary()), _NOTHING)
    sizes = np.frombuffer(data.buffers()[1], np.int64)[data.offset : data.offset + len(data) + 1]
    extra = JSONB_VERSION if kind == "json" else b""
    head = np.empty((len(values), 4 + len(extra)), np.uint8)
    head[:, :4] = _lengths(np.diff(sizes) + len(extra), valid)
    head[:, 4:] = np.frombuffer(extra, np.uint8)
    return [_ragged(head, np.where(valid, 4 + len(extra), 4)), data]


def _fixed_values(values: pa.Array, kind: str) -> np.ndarray:
    if kind == "date":
        days = pc.fill_null(values.cast(pa.date32()), 0).cast(pa.int32())
        return (days.to_numpy(zero_copy_only=False) - _EPOCH_2000_DAYS).astype(">i4")
    if kind == "datetime":  # UTC instants (the writer gives zoned timestamps)
        micros = pc.fill_null(values.cast(pa.timestamp("us", "UTC")).cast(pa.int64()), 0)
        return (micros.to_numpy(zero_copy_only=False) - _EPOCH_2000_US).astype(">i8")
    filled = pc.fill_null(values, False if kind == "boolean" else 0)
    return filled.to_numpy(zero_copy_only=False).astype(_FIXED[kind])


def _validity(values: pa.Array) -> np.ndarray:
    if values.null_count == 0:
        return np.ones(len(values), bool)
    return values.is_valid().to_numpy(zero_copy_only=False)


def _lengths(sizes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The int32 length prefixes as bytes, one row of 4 per value; -1 marks NULL."""
    return np.where(valid, sizes, -1).astype(">i4").view(np.uint8).reshape(-1, 4)


def _ragged(matrix: np.ndarray, keep: np.ndarray) -> pa.Array:
    """The first keep[i] bytes of each row of matrix, as a binary array."""
    if (keep == matrix.shape[1]).all():
        data = matrix.reshape(-1)
    else:
        data = matrix[np.arange(matrix.shape[1]) < keep[:, None]]
    offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(matrix), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _constant(value: bytes, count: int) -> pa.Array:
    matrix = np.broadcast_to(np.frombuffer(value, np.uint8), (count, len(value)))
    return _ragged(np.ascontiguousarray(matrix), np.full(count, len(value)))
