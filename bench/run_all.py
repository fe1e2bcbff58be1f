"""Run every sbamti benchmark (``make bench``) and print their tables and a summary of the ratios."""

from __future__ import annotations

import time

import bench_detector
import bench_link_fuzz
import bench_link_store
import bench_link_throughput
import bench_tracker
import bench_tracking_filters
import bench_message_arrays
import bench_message_rate
import bench_orbit
import bench_radar_cube
import bench_radar_statistical
from benchlib import tx_packets


def main() -> None:
    started = time.monotonic()
    tx_before = tx_packets()

    print("== bench_message_arrays ==", flush=True)
    arrays = bench_message_arrays.run()
    print(bench_message_arrays.report(arrays), end="\n\n", flush=True)

    print("== bench_message_rate ==", flush=True)
    rate = bench_message_rate.run()
    print(bench_message_rate.report(rate), end="\n\n")

    print("== bench_orbit ==", flush=True)
    orbit = bench_orbit.run()
    print(bench_orbit.report(orbit), end="\n\n")

    print("== bench_radar_cube ==", flush=True)
    bench_radar_cube.main()
    print()

    print("== bench_detector ==", flush=True)
    print(bench_detector.report(bench_detector.run()), end="\n\n")

    print("== bench_radar_statistical ==", flush=True)
    radar = bench_radar_statistical.run()
    print(bench_radar_statistical.report(radar), end="\n\n")

    print("== bench_link_throughput ==", flush=True)
    link = bench_link_throughput.run()
    print(bench_link_throughput.report(link), end="\n\n")

    print("== bench_link_store ==", flush=True)
    print(bench_link_store.report(bench_link_store.run()), end="\n\n")

    print("== bench_link_fuzz ==", flush=True)
    fuzz = bench_link_fuzz.run(inputs=1_000_000)
    print(bench_link_fuzz.report(fuzz), end="\n\n")

    print("== bench_tracker ==", flush=True)
    print(bench_tracker.report(bench_tracker.run()), end="\n\n")

    print("== bench_tracking_filters ==", flush=True)
    print(bench_tracking_filters.report(bench_tracking_filters.run()), end="\n\n")

    helper = arrays["helper path (sum of 4 stages)"]
    naive = arrays["naive: = ndarray"]
    summary = [
        f"2 MiB array -> field -> serialize -> deserialize -> numpy: {helper['ratio']:.3g}x a 2 MiB copy "
        f"({helper['median']:.0f} us median)",
        f"naive 'msg.iq_interleaved = ndarray': {naive['ratio']:.3g}x a copy, "
        f"{naive['median'] / helper['median']:.3g}x the whole helper path",
        *(f"{name}: {value:.3g}" for name, value in bench_message_rate.key_ratios(rate).items()),
        bench_message_rate.network_check({"tx_before": tx_before, "tx_after": tx_packets()}) + " (whole run)",
        *(f"orbit, {r['satellites']:,} satellites x {bench_orbit.EPOCHS} epochs: bare SGP4 / (SGP4 + ECEF + geodetic) "
          f"= {r['ratio']:.2f}" for r in orbit["conversion"]),
        f"orbit_state constellation mode, {orbit['node']['satellites']:,} satellites: "
        f"{orbit['node']['real_time_factor_1hz']:.0f}x real time at 1 Hz",
        f"statistical dwells with {radar['targets']:,} targets: {1.0 / (radar['truth_s'] + radar['dwell_s']):.0f} per second "
        f"(one core)",
        f"total time {time.monotonic() - started:.0f} s",
    ]
    print("== summary ==")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
