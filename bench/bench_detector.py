"""The onboard IQ chain per CPI at the baseline size, against the CPI duration and the matmul rate.

Cube 16 channels × 32 pulses × 1,000 range bins (noise and one target; the chain's cost does not
depend on the content): Doppler filter bank, adjacent-bin post-Doppler STAP (3 × 16 = 48 DOF,
weights per 50-bin range block, 48 training bins), CA-CFAR, clustering and estimation
(``sbamti.detection.iq_chain.IqDetector``), timed per CPI after a warm-up call. Real-time factor =
CPI duration (32 / 7.5 kHz = 4.27 ms) / processing time. The FLOP count is that of the adaptive
filtering's dominant kernels (training Gram matrices, solves, weight application), next to the
machine's numpy complex matmul rate measured in the same run.

Run: ``.venv/bin/python bench/bench_detector.py``
"""

from __future__ import annotations

import sys

import numpy as np

from bench_radar_cube import matmul_rate_flops
from benchlib import stats, time_calls

from sbamti.detection.iq_chain import IqDetector
from sbamti.radar.config import RadarConfig
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise


def run(repeats: int = 5) -> dict:
    radar = RadarConfig()
    prf = radar.prf_set_hz[0]
    layout = CubeLayout(channel_x_m=radar.channel_positions_antenna_m[:, 0], num_pulses=radar.pulses_per_cpi,
                        num_range_bins=1000, prf_hz=prf, wavelength_m=radar.wavelength_m,
                        sample_rate_hz=radar.sample_rate_hz, range_first_bin_m=1.49e6)
    rng = np.random.default_rng(0)
    cube = thermal_noise(layout.shape, radar.noise_power_w, rng)
    add_point_targets(cube, layout, 1.5e6, 20.0, 0.0, np.sqrt(10 * radar.noise_power_w))
    detector = IqDetector(layout, noise_power_w=radar.noise_power_w, pfa=1e-6)
    seconds = stats(time_calls(lambda: detector(cube, 0.0), repeats, warmup=1))["median"]
    n, m, l_bins = layout.shape
    dof = 3 * n
    blocks = -(-l_bins // 50)
    # complex MACs: Gram matrices over all range bins (D² per bin per Doppler bin), one D³/3
    # Cholesky-type solve per block and Doppler bin, weights applied (D per bin per Doppler bin)
    macs = m * (l_bins * dof * dof + blocks * dof**3 / 3 + l_bins * dof)
    flops = 8.0 * macs
    return {"seconds": seconds, "cpi_s": m / prf, "flops": flops, "matmul_flops_per_s": matmul_rate_flops()}


def report(result: dict) -> str:
    achieved = result["flops"] / result["seconds"]
    return (f"IQ chain per CPI (16 x 32 x 1000): {result['seconds'] * 1e3:.1f} ms; CPI {result['cpi_s'] * 1e3:.2f} ms "
            f"-> real-time factor {result['cpi_s'] / result['seconds']:.3f}\n"
            f"adaptive-filtering kernels: {result['flops']:.3g} flops -> {achieved / 1e9:.1f} GFLOP/s achieved, "
            f"{100 * achieved / result['matmul_flops_per_s']:.1f} % of the numpy complex64 matmul rate "
            f"({result['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s)")


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    sys.exit(main())
