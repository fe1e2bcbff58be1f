"""Cost of one dwell's IQ cube with ground clutter at the baseline size (16 x 32 x 1000, +-6 ambiguities).

Times, for the baseline radar (RADAR_PARAMETERS.md Sec. 2) on an 800 km, 53 deg orbit at the
ascending node, beam side-looking at the 1500 km ring with Earth rotation:

1. ``clutter_patches`` (WGS 84 rings for 1000 bins x 13 ambiguities, patterns, radar equation),
2. ``thermal_noise`` for the cube,
3. ``add_clutter`` (one complex64 (N x P_l) @ (P_l x M) product per bin, plus the steering tables),

and reports the complex multiply-accumulates of the clutter products (``Σ_l N P_l M``, 8 real
flops each), the machine's measured complex64 matmul rate (512 x 512 @ 512 x 512) and the
fraction of it that ``add_clutter`` achieves (the steering tables count as overhead).

Run: ``.venv/bin/python bench/bench_radar_cube.py [--repeats 1] [--bins 1000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchlib import format_table, stats, time_calls

from sbamti.geo.wgs84 import A_M, OMEGA_EARTH_RAD_S
from sbamti.radar.clutter import (
    add_clutter,
    clutter_patches,
    clutter_synthesis_complex_macs,
    side_looking_axes,
)
from sbamti.radar.config import RadarConfig
from sbamti.radar.geometry import off_nadir_angle_rad
from sbamti.radar.iq import CubeLayout, thermal_noise

MU_EARTH = 3.986004418e14
R0_M = 1500e3


def baseline_dwell(num_bins: int):
    config = RadarConfig()
    r = A_M + 800e3
    inc = np.radians(53.0)
    pos = np.array([r, 0.0, 0.0])
    v_inertial = np.sqrt(MU_EARTH / r) * np.array([0.0, np.cos(inc), np.sin(inc)])
    v_ecef = v_inertial - np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], pos)
    axes = side_looking_axes(pos, v_inertial, off_nadir_angle_rad(R0_M, r))
    layout = CubeLayout(channel_x_m=config.channel_positions_antenna_m[:, 0], num_pulses=config.pulses_per_cpi,
                        num_range_bins=num_bins, prf_hz=config.prf_set_hz[0], wavelength_m=config.wavelength_m,
                        sample_rate_hz=config.sample_rate_hz,
                        range_first_bin_m=R0_M - 0.5 * num_bins * config.range_resolution_m)
    return config, layout, pos, v_ecef, axes


def matmul_rate_flops(size: int = 512, repeats: int = 10) -> float:
    """Measured complex64 matmul rate, real flops/s (8 per complex multiply-accumulate)."""
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))).astype(np.complex64)
    b = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))).astype(np.complex64)
    best = min(time_calls(lambda: a @ b, repeats))
    return 8.0 * size ** 3 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--bins", type=int, default=1000)
    args = parser.parse_args()

    config, layout, pos, v_ecef, axes = baseline_dwell(args.bins)
    timings: dict[str, list[float]] = {"clutter_patches": [], "thermal_noise": [], "add_clutter": [], "total": []}
    patches = None
    for repeat in range(args.repeats):
        t0 = time.perf_counter()
        patches = clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=6, earth_rotation=True)
        t1 = time.perf_counter()
        cube = thermal_noise(layout.shape, config.noise_power_w, np.random.default_rng(repeat))
        t2 = time.perf_counter()
        add_clutter(cube, layout, patches, np.random.default_rng(100 + repeat))
        t3 = time.perf_counter()
        for key, value in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
            timings[key].append(value)

    macs = clutter_synthesis_complex_macs(layout, patches)
    flops = 8.0 * macs
    rate = matmul_rate_flops()
    synth = stats(timings["add_clutter"])["median"]
    print(f"cube {layout.shape} (channels, pulses, range bins), PRF {layout.prf_hz:g} Hz, +-6 ambiguities, "
          f"{patches.num_patches:,} patches ({patches.num_patches / layout.num_range_bins:,.0f} per bin)")
    rows = [[name, s["median"], s["min"], s["n"]] for name, s in ((k, stats(v)) for k, v in timings.items())]
    print(format_table(["stage", "median s", "min s", "runs"], rows))
    print(f"clutter synthesis: {macs:.3e} complex MACs = {flops:.3e} real flops")
    print(f"numpy complex64 matmul (512^3): {rate / 1e9:.1f} GFLOP/s")
    print(f"add_clutter achieved {flops / synth / 1e9:.1f} GFLOP/s = {flops / synth / rate:.1%} of the matmul rate "
          f"(matmul-only lower bound {flops / rate:.2f} s)")


if __name__ == "__main__":
    main()
