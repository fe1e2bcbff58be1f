"""sbamti.ros.arrays against the real generated messages and rclpy's serialization."""

from __future__ import annotations

import array
import time
from collections.abc import Callable

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()  # before rclpy loads the middleware

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from std_msgs.msg import UInt32MultiArray  # noqa: E402

from sbamti.ros.arrays import (  # noqa: E402
    complex_to_interleaved,
    from_field,
    interleaved_to_complex,
    to_field,
)
from sbamti_msgs.msg import NodeStatus, RadarDwell  # noqa: E402

RNG = np.random.default_rng(20261125)


def round_trip(msg):
    """The message as a subscriber in another process would receive it."""
    return deserialize_message(serialize_message(msg), type(msg))


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality (NaN payloads and -0.0 included), shapes and dtypes too."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def random_cube(shape: tuple[int, ...]) -> np.ndarray:
    """complex64 cube with special values (NaN, inf, -0.0, subnormal) among random ones."""
    cube = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)
    flat = cube.reshape(-1).view(np.float32)
    flat[:4] = [np.nan, -np.inf, -0.0, np.finfo(np.float32).smallest_subnormal]
    return cube


# --- round trips through serialization -------------------------------------------------------

@pytest.mark.parametrize("field, dtype", [
    ("iq_interleaved", np.float32),
    ("return_range_m", np.float64),
    ("channel_positions_antenna_m", np.float64),
])
def test_float_fields_round_trip(field: str, dtype: type) -> None:
    values = RNG.standard_normal(1000).astype(dtype)
    msg = RadarDwell()
    setattr(msg, field, to_field(values, dtype))
    received = from_field(getattr(round_trip(msg), field), dtype)
    assert same_bits(received, values)


def test_uint32_field_round_trip() -> None:
    values = RNG.integers(0, 2**32, size=500, dtype=np.uint32)
    values[:2] = [0, 2**32 - 1]
    msg = UInt32MultiArray(data=to_field(values, np.uint32))
    assert same_bits(from_field(round_trip(msg).data, np.uint32), values)


def test_uint64_field_round_trip() -> None:
    values = RNG.integers(0, 2**64, size=500, dtype=np.uint64)
    values[:2] = [0, 2**64 - 1]
    msg = NodeStatus(counter_values=to_field(values, np.uint64))
    assert same_bits(from_field(round_trip(msg).counter_values, np.uint64), values)


def test_complex_cube_round_trip_is_bitwise_exact() -> None:
    shape = (4, 16, 100)  # channels, pulses, range bins
    cube = random_cube(shape)
    msg = RadarDwell(num_channels=shape[0], num_pulses=shape[1], num_range_bins=shape[2],
                     iq_interleaved=complex_to_interleaved(cube))
    assert len(msg.iq_interleaved) == 2 * cube.size
    received = round_trip(msg)
    out_shape = (received.num_channels, received.num_pulses, received.num_range_bins)
    assert same_bits(interleaved_to_complex(received.iq_interleaved, out_shape), cube)


def test_interleaving_is_re_then_im_in_c_order() -> None:
    cube = np.array([[1 + 2j, 3 + 4j]], dtype=np.complex64)
    assert list(complex_to_interleaved(cube)) == [1.0, 2.0, 3.0, 4.0]


# --- errors ----------------------------------------------------------------------------------

def test_shape_mismatch_names_both_sizes() -> None:
    field = to_field(np.zeros(12), np.float64)
    with pytest.raises(ValueError, match=r"12 .*\(5, 2\).* 10"):
        from_field(field, np.float64, shape=(5, 2))


def test_complex_shape_mismatch_names_both_sizes() -> None:
    field = complex_to_interleaved(np.zeros((2, 3), np.complex64))  # 12 floats
    with pytest.raises(ValueError, match=r"12 .*\(2, 4\).* 16"):
        interleaved_to_complex(field, (2, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_complex_into_float_field_raises(dtype: type) -> None:
    with pytest.raises(TypeError, match="complex"):
        to_field(np.ones(3, np.complex64), dtype)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64, np.int32])
def test_float_into_integer_field_raises(dtype: type) -> None:
    with pytest.raises(TypeError, match=rf"float64.*{np.dtype(dtype)}"):
        to_field(np.array([1.5, 2.0]), dtype)


def test_unsupported_field_dtype_raises() -> None:
    with pytest.raises(TypeError, match="float16"):
        to_field(np.ones(3), np.float16)


def test_from_field_rejects_wrong_typecode() -> None:
    with pytest.raises(TypeError, match="'d'"):
        from_field(array.array("d", [1.0]), np.float32)


# --- casts ------------------------------------------------------------------------------------

def test_float64_data_into_float32_field_is_cast() -> None:
    field = to_field(np.array([0.5, 1.25]), np.float32)
    assert field.typecode == "f" and list(field) == [0.5, 1.25]


def test_integers_into_unsigned_field_when_they_fit() -> None:
    assert list(to_field(np.arange(4), np.uint64)) == [0, 1, 2, 3]  # int64 data
    assert list(to_field([7, 2**32 - 1], np.uint32)) == [7, 2**32 - 1]  # Python ints


@pytest.mark.parametrize("values, dtype", [([-1, 2], np.uint64), ([2**32], np.uint32), ([2**31], np.int32)])
def test_integers_out_of_field_range_raise(values: list[int], dtype: type) -> None:
    with pytest.raises(ValueError, match=str(np.dtype(dtype))):
        to_field(np.array(values, dtype=np.int64), dtype)


# --- empty and non-contiguous input ---------------------------------------------------------

@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0, 2)])
def test_empty_arrays(shape: tuple[int, ...]) -> None:
    msg = RadarDwell(iq_interleaved=to_field(np.empty(shape, np.float32), np.float32))
    received = round_trip(msg).iq_interleaved
    assert len(received) == 0
    assert from_field(received, np.float32, shape=shape).shape == shape


def test_empty_complex_cube() -> None:
    field = complex_to_interleaved(np.empty((2, 0, 5), np.complex64))
    assert len(field) == 0
    assert interleaved_to_complex(field, (2, 0, 5)).shape == (2, 0, 5)


def test_non_contiguous_view_packs_in_c_order_of_its_shape() -> None:
    base = np.arange(2 * 3 * 8, dtype=np.float32).reshape(2, 3, 8)
    view = base.transpose(2, 0, 1)[::3, :, 1:]  # shape (3, 2, 2), neither C nor F contiguous
    assert not view.flags.c_contiguous
    field = to_field(view, np.float32)
    assert list(field) == [float(v) for v in np.array(view, order="C").reshape(-1)]
    assert same_bits(from_field(field, np.float32, shape=view.shape), np.ascontiguousarray(view))


def test_non_contiguous_complex_view_round_trips() -> None:
    view = random_cube((4, 6, 10)).transpose(1, 0, 2)[:, ::2, 3:7]
    msg = RadarDwell(iq_interleaved=complex_to_interleaved(view))
    received = interleaved_to_complex(round_trip(msg).iq_interleaved, view.shape)
    assert same_bits(received, np.ascontiguousarray(view))


# --- zero copy and speed ----------------------------------------------------------------------

def test_from_field_is_zero_copy() -> None:
    field = round_trip(RadarDwell(iq_interleaved=to_field(np.arange(8.0), np.float32))).iq_interleaved
    view = from_field(field, np.float32, shape=(2, 4))
    assert np.shares_memory(view, np.frombuffer(field, np.float32))
    view[1, 3] = -5.0
    assert field[7] == -5.0  # writes go through to the message's array.array


def test_interleaved_to_complex_is_zero_copy() -> None:
    field = complex_to_interleaved(np.zeros((2, 2), np.complex64))
    cube = interleaved_to_complex(field, (2, 2))
    cube[1, 0] = 3 - 4j
    assert list(field[4:6]) == [3.0, -4.0]


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Shortest of ``repeats`` timings of ``fn`` (least disturbed by other load), seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_setter_does_not_iterate_per_element() -> None:
    data = RNG.standard_normal(512 * 1024).astype(np.float32)  # 2 MB
    msg = RadarDwell()

    def naive() -> None:
        msg.iq_interleaved = data

    def helper() -> None:
        msg.iq_interleaved = to_field(data, np.float32)

    ratio = best_time(naive, 3) / best_time(helper, 20)
    assert ratio > 20, f"to_field only {ratio:.1f}x faster than assigning the ndarray"
