"""A 2 MB float32 array through a RadarDwell field and rclpy serialization, as a ratio to a plain copy.

Path measured per repetition: ``to_field`` + field assignment, ``serialize_message``,
``deserialize_message``, ``from_field``. The baselines (``np.copyto`` into a preallocated array and
``bytes(arr)``, both 2 MB) are timed in the same loop, so machine load affects both alike.
The naive assignment (``msg.iq_interleaved = ndarray`` / ``= ndarray.tolist()``) is timed too.
"""

from __future__ import annotations

import argparse
import time

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()  # before rclpy loads the middleware

import numpy as np  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402

from benchlib import MiB, format_table, stats, time_calls  # noqa: E402
from sbamti.ros.arrays import from_field, to_field  # noqa: E402
from sbamti_msgs.msg import RadarDwell  # noqa: E402

ELEMENTS = 512 * 1024  # float32: 2 MiB
STAGES = ("copyto", "bytes", "to_field", "serialize", "deserialize", "from_field")


def measure_path(data: np.ndarray, repeats: int) -> dict[str, list[float]]:
    """Per-stage wall times (s) of the helper path and of the in-loop copy baselines."""
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    copy_target = np.empty_like(data)
    received = data
    for rep in range(repeats + 2):  # the first two warm up allocator and caches
        msg = RadarDwell()
        t0 = time.perf_counter()
        np.copyto(copy_target, data)
        t1 = time.perf_counter()
        bytes(data)
        t2 = time.perf_counter()
        msg.iq_interleaved = to_field(data, np.float32)
        t3 = time.perf_counter()
        wire = serialize_message(msg)
        t4 = time.perf_counter()
        out = deserialize_message(wire, RadarDwell)
        t5 = time.perf_counter()
        received = from_field(out.iq_interleaved, np.float32)
        t6 = time.perf_counter()
        if rep >= 2:
            for stage, start, end in zip(STAGES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                times[stage].append(end - start)
    if not np.array_equal(received, data):
        raise AssertionError("array changed on the way through the message")
    return times


def measure_naive(data: np.ndarray, repeats: int) -> dict[str, list[float]]:
    """Wall times (s) of assigning the array to the field without the helper."""
    msg = RadarDwell()

    def assign_ndarray() -> None:
        msg.iq_interleaved = data

    def assign_list() -> None:
        msg.iq_interleaved = data.tolist()

    return {"naive: = ndarray": time_calls(assign_ndarray, repeats, warmup=1),
            "naive: = ndarray.tolist()": time_calls(assign_list, repeats, warmup=1)}


def run(repeats: int = 300, naive_repeats: int = 10) -> dict[str, dict[str, float]]:
    """Statistics (µs) and ratio of each median to the ``np.copyto`` median, keyed by row name."""
    data = np.random.default_rng(0).standard_normal(ELEMENTS).astype(np.float32)
    times = measure_path(data, repeats)
    times["helper path (sum of 4 stages)"] = [sum(parts) for parts in zip(
        *(times[stage] for stage in ("to_field", "serialize", "deserialize", "from_field")))]
    times.update(measure_naive(data, naive_repeats))
    results = {name: {k: v * 1e6 if k != "n" else v for k, v in stats(samples).items()}
               for name, samples in times.items()}
    baseline = results["copyto"]["median"]
    for row in results.values():
        row["ratio"] = row["median"] / baseline
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    """The results as a table, ratios relative to the in-run ``np.copyto`` median."""
    rows = [(name, r["median"], r["p90"], r["ratio"], r["n"]) for name, r in results.items()]
    title = f"float32 array of {ELEMENTS * 4 / MiB:.0f} MiB ({ELEMENTS} elements) through RadarDwell.iq_interleaved"
    return title + "\n" + format_table(["step", "median us", "p90 us", "x copyto", "n"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="repetitions of the helper path")
    parser.add_argument("--naive-repeats", type=int, default=10, help="repetitions of each naive assignment")
    args = parser.parse_args()
    print(report(run(args.repeats, args.naive_repeats)))


if __name__ == "__main__":
    main()
