"""numpy arrays to and from ROS 2 message array fields without per-element Python work.

Assigning an ndarray to a message field (``msg.data = arr``) makes rosidl iterate element by
element (tens of milliseconds for a 2 MB cube). Assigning an ``array.array`` built from the
array's bytes is a single memcpy, and ``np.frombuffer`` reads a received field without a copy.
This module has no rclpy import; it only needs the message's field typecodes.
"""

from __future__ import annotations

import array

import numpy as np

# array.array typecode for each numpy dtype rosidl maps to an array.array field.
_TYPECODES: dict[np.dtype, str] = {
    np.dtype(np.float32): "f",
    np.dtype(np.float64): "d",
    np.dtype(np.int8): "b",
    np.dtype(np.uint8): "B",
    np.dtype(np.int16): "h",
    np.dtype(np.uint16): "H",
    np.dtype(np.int32): "i",
    np.dtype(np.uint32): "I",
    np.dtype(np.int64): "q",
    np.dtype(np.uint64): "Q",
}


def to_field(values: np.ndarray, dtype: np.dtype | type) -> array.array:
    """Pack ``values`` (any shape) as a flat ``array.array`` of ``dtype`` for a message field.

    ``dtype`` must be the field's element type (``np.float32`` for ``float32[]``). Values are cast
    with numpy's rules (``same_kind``): float64 data into a float32 field is allowed; a float into an
    integer field raises ``TypeError`` naming both types. Integer data go into any integer field
    whose range holds every value (``np.arange(n)`` into ``uint64[]``); a value out of range raises
    ``ValueError``. Complex data must be interleaved first (``complex_to_interleaved``).
    """
    dtype = np.dtype(dtype)
    try:
        typecode = _TYPECODES[dtype]
    except KeyError:
        raise TypeError(f"dtype {dtype} has no array.array field type; expected one of "
                        f"{sorted(str(d) for d in _TYPECODES)}") from None
    arr = np.asarray(values)
    if np.iscomplexobj(arr):
        raise TypeError(f"complex array ({arr.dtype}) given for a {dtype} field; use complex_to_interleaved")
    if arr.dtype != dtype:
        if arr.dtype.kind in "biu" and dtype.kind in "iu":
            _check_integer_range(arr, dtype)
        elif not np.can_cast(arr.dtype, dtype, casting="same_kind"):
            raise TypeError(f"cannot store {arr.dtype} values in a {dtype} field without losing meaning")
        arr = arr.astype(dtype)
    out = array.array(typecode)
    # Flatten first: memoryview.cast refuses multi-dimensional views with a zero in the shape.
    out.frombytes(memoryview(np.ascontiguousarray(arr).reshape(-1)).cast("B"))
    return out


def _check_integer_range(arr: np.ndarray, dtype: np.dtype) -> None:
    """Raise ``ValueError`` unless every integer in ``arr`` is representable in ``dtype``."""
    if arr.size == 0 or np.can_cast(arr.dtype, dtype, casting="safe"):
        return
    info = np.iinfo(dtype)
    low, high = int(arr.min()), int(arr.max())
    if low < info.min or high > info.max:
        raise ValueError(f"{arr.dtype} values in [{low}, {high}] do not fit a {dtype} field "
                         f"[{info.min}, {info.max}]")


def from_field(field: array.array | np.ndarray | list, dtype: np.dtype | type, shape: tuple[int, ...] | None = None
               ) -> np.ndarray:
    """View a received message field as an ndarray of ``dtype`` (zero-copy for ``array.array``).

    ``shape`` reshapes the flat field (C order); a size mismatch raises ``ValueError`` naming both.
    The result shares memory with the message: copy it if the message will be reused.
    """
    dtype = np.dtype(dtype)
    if isinstance(field, array.array):
        if field.itemsize != dtype.itemsize or _TYPECODES.get(dtype) != field.typecode:
            raise TypeError(f"field typecode '{field.typecode}' does not hold {dtype} elements")
        arr = np.frombuffer(field, dtype=dtype) if len(field) else np.empty(0, dtype=dtype)
    else:
        arr = np.asarray(field, dtype=dtype)
    if shape is not None:
        expected = int(np.prod(shape))
        if arr.size != expected:
            raise ValueError(f"field holds {arr.size} elements but shape {tuple(shape)} needs {expected}")
        arr = arr.reshape(shape)
    return arr


def complex_to_interleaved(cube: np.ndarray) -> array.array:
    """Complex array (any shape, C order) to an interleaved float32 (re, im) field."""
    cube = np.ascontiguousarray(cube, dtype=np.complex64)
    return to_field(cube.view(np.float32).reshape(-1), np.float32)


def interleaved_to_complex(field: array.array | np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Interleaved float32 (re, im) field to a complex64 array of ``shape`` (zero-copy view)."""
    flat = from_field(field, np.float32)
    expected = 2 * int(np.prod(shape))
    if flat.size != expected:
        raise ValueError(f"interleaved field holds {flat.size} floats but complex shape {tuple(shape)} needs {expected}")
    return flat.view(np.complex64).reshape(shape)
