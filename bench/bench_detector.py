"""The onboard IQ chain per CPI at the baseline size, against the CPI duration and the matmul rate.

Cube 16 channels × 32 pulses × 1,000 range bins (noise and one target; the chain's cost does not
depend on the content): ``sbamti.detection.iq_chain.IqDetector`` — 5 DFT beams (one complex GEMM),
Chebyshev Doppler filter bank on the central 3 (GEMM), joint-domain localized STAP (3 beams × 3
Doppler bins, weights per 100-bin range block from 48 training bins; numba Gram, solve and
apply kernels), CA-CFAR, clustering, and the 5 × 5 adaptive ML angle-Doppler estimate of each
detection. Timed per CPI (median after a warm-up), one BLAS thread. Real-time factor = CPI
duration (32 / 7.5 kHz = 4.27 ms) / processing time. Each stage is timed on its own with its
FLOP count (8 real flops per complex multiply-accumulate) next to the machine's complex64 matmul
rate measured in the same run. For comparison, the element-space adjacent-bin post-Doppler STAP
(16 channels × 3 bins = 48 DOF) on the same cube.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_detector.py``
"""

from __future__ import annotations

import sys

import numpy as np

from bench_radar_cube import matmul_rate_flops
from benchlib import stats, time_calls

from sbamti.detection.iq_chain import IqDetector
from sbamti.detection.stap import PostDopplerStap
from sbamti.detection.stap_kernels import apply_weights_power, block_weights, gather_snapshots, running_grams
from sbamti.radar.config import RadarConfig
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise


def _median(fn, repeats: int) -> float:
    return stats(time_calls(fn, repeats, warmup=2))["median"]


def run(repeats: int = 30) -> dict:
    radar = RadarConfig()
    prf = radar.prf_set_hz[0]
    layout = CubeLayout(channel_x_m=radar.channel_positions_antenna_m[:, 0], num_pulses=radar.pulses_per_cpi,
                        num_range_bins=1000, prf_hz=prf, wavelength_m=radar.wavelength_m,
                        sample_rate_hz=radar.sample_rate_hz, range_first_bin_m=1.49e6)
    rng = np.random.default_rng(0)
    cube = thermal_noise(layout.shape, radar.noise_power_w, rng)
    add_point_targets(cube, layout, 1.5e6, 20.0, 0.0, np.sqrt(10 * radar.noise_power_w))
    detector = IqDetector(layout, noise_power_w=radar.noise_power_w, pfa=1e-6)
    assert len(detector(cube, 0.0)) >= 1
    total = _median(lambda: detector(cube, 0.0), repeats)

    n, m, l_bins = layout.shape
    stap = detector.stap
    est = detector.estimator
    p_e, p, d = est.beams_h.shape[0], stap.spatial_dof, stap.dof
    beams = est.beams(cube)
    spatial = beams[detector._stap_beams]
    doppler = stap.filter_bank(spatial)
    z_re, z_im = gather_snapshots(doppler, stap.offsets)
    running = running_grams(z_re, z_im, stap._edges)
    w = block_weights(running, stap._bound_index, stap.num_training, stap.loading_w, stap.steering(),
                      stap.noise_correlation, stap.noise_power_w)
    power = apply_weights_power(z_re, z_im, w, stap.block_starts)
    blocks = stap.block_starts.size
    stages = {   # name: (seconds, complex MACs)
        "beams (GEMM 5x16 by 16x32000)": (_median(lambda: est.beams(cube), repeats), p_e * n * m * l_bins),
        "Doppler bank (GEMM 32x32 per beam)": (_median(lambda: stap.filter_bank(spatial), repeats), p * m * m * l_bins),
        "snapshot gather": (_median(lambda: gather_snapshots(doppler, stap.offsets), repeats), 0),
        "training Gram sums (numba)": (_median(lambda: running_grams(z_re, z_im, stap._edges), repeats),
                                       m * l_bins * d * (d + 1) // 2),
        "block weights: Cholesky + solve (numba)": (
            _median(lambda: block_weights(running, stap._bound_index, stap.num_training, stap.loading_w,
                                          stap.steering(), stap.noise_correlation, stap.noise_power_w), repeats),
            m * blocks * (d ** 3 // 6 + d * d + d * d)),
        "apply weights (numba)": (_median(lambda: apply_weights_power(z_re, z_im, w, stap.block_starts), repeats),
                                  m * l_bins * d),
        "CA-CFAR + clustering": (_median(lambda: detector.cfar(power), repeats), 0),
        "ML angle-Doppler, 1 detection": (
            _median(lambda: est.from_beams(beams, np.array([334]), np.array([10 / 32 - 0.5])), repeats), 0),
    }
    element = PostDopplerStap(layout, adjacent_bins=3, num_training=2 * 48, num_guard=3,
                              noise_power_w=radar.noise_power_w, range_block=100)
    element_seconds = _median(lambda: element(cube), max(3, repeats // 5))
    return {"seconds": total, "cpi_s": m / prf, "stages": stages, "matmul_flops_per_s": matmul_rate_flops(),
            "element_space_seconds": element_seconds, "dof": d}


def report(result: dict) -> str:
    rate = result["matmul_flops_per_s"]
    lines = [f"IQ chain per CPI (16 x 32 x 1000, JDL {result['dof']} DOF): {result['seconds'] * 1e3:.2f} ms; "
             f"CPI {result['cpi_s'] * 1e3:.2f} ms -> real-time factor {result['cpi_s'] / result['seconds']:.2f}",
             f"numpy complex64 matmul rate (one thread): {rate / 1e9:.0f} GFLOP/s",
             f"{'stage':44s} {'ms':>7s} {'GFLOP/s':>8s} {'% matmul':>8s}"]
    for name, (seconds, macs) in result["stages"].items():
        flops = 8.0 * macs
        achieved = flops / seconds if macs else float("nan")
        lines.append(f"{name:44s} {seconds * 1e3:7.3f} {achieved / 1e9:8.1f} {100 * achieved / rate:8.1f}")
    lines.append(f"element-space adjacent-bin STAP (48 DOF) alone: {result['element_space_seconds'] * 1e3:.1f} ms "
                 f"= {result['element_space_seconds'] / result['seconds']:.1f}x the whole JDL chain")
    return "\n".join(lines)


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    sys.exit(main())
