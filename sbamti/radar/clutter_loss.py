"""Clutter-limited SINR loss of the statistical fidelity, from the same clutter model as the cube.

For a target the optimum (known-covariance) STAP filter loses ``L(Δv)`` of its SNR, where ``Δv`` is
its radial velocity relative to the ground clutter along its own line of sight (``u · v_target``
in ECEF, where the ground is at rest). ``L`` has a notch of width ~MDV around 0 and repeats every
blind speed ``λ PRF / 2``. It is computed once per PRF, at set-up, for a reference geometry
(side-looking, no Earth rotation, single range ring at the reference slant range) with
``clutter.clutter_patches`` → ``clutter.clutter_covariance`` → ``clutter.sinr_loss``, tabulated over
one blind-speed interval and interpolated per target.

The Earth-rotation crab is thereby folded into ``Δv`` (ground-fixed clutter at the target's line of
sight); the notch *width* of the rotating case (RADAR_PARAMETERS.md §3.5: ~2× wider without yaw
steering, from range-ambiguous rings spread in Doppler) is not modelled by the reference geometry.
"""

from __future__ import annotations

import numpy as np

from sbamti.geo.wgs84 import OMEGA_EARTH_RAD_S, geodetic_to_ecef
from sbamti.radar.clutter import clutter_covariance, clutter_patches, side_looking_axes, sinr_loss
from sbamti.radar.config import RadarConfig
from sbamti.radar.geometry import off_nadir_angle_rad
from sbamti.radar.iq import CubeLayout

EARTH_GM_M3_S2 = 3.986004418e14


class ClutterLossTable:
    """``table(delta_v)`` → linear SINR loss in (0, 1] for ground-relative radial velocities (m/s)."""

    def __init__(self, config: RadarConfig, prf_hz: float, *, reference_slant_range_m: float = 1500e3,
                 orbit_altitude_m: float = 800e3, samples: int = 512) -> None:
        self.prf_hz = prf_hz
        self.blind_speed_mps = config.wavelength_m * prf_hz / 2.0
        sat = geodetic_to_ecef(0.0, 0.0, orbit_altitude_m)
        radius = float(np.linalg.norm(sat))
        inertial = np.array([0.0, 0.0, np.sqrt(EARTH_GM_M3_S2 / radius)])      # circular, northbound
        # ECEF velocity whose inertial counterpart (v + ω × r, as clutter_patches forms it when
        # earth_rotation is off) is exactly the northbound orbital velocity: the textbook case
        velocity = inertial - OMEGA_EARTH_RAD_S * np.array([-sat[1], sat[0], 0.0])
        off_nadir = float(off_nadir_angle_rad(reference_slant_range_m, radius))
        axes = side_looking_axes(sat, inertial, off_nadir)
        bin_m = 299_792_458.0 / (2.0 * config.sample_rate_hz)
        layout = CubeLayout(channel_x_m=config.channel_positions_antenna_m[:, 0], num_pulses=config.pulses_per_cpi,
                            num_range_bins=3, prf_hz=prf_hz, wavelength_m=config.wavelength_m,
                            sample_rate_hz=config.sample_rate_hz, range_first_bin_m=reference_slant_range_m - bin_m)
        patches = clutter_patches(config, layout, sat, velocity, axes, ambiguities=0, earth_rotation=False)
        covariance = clutter_covariance(layout, patches, 1, config.noise_power_w)
        self.velocities_mps = (np.arange(samples) / samples - 0.5) * self.blind_speed_mps
        self.loss = sinr_loss(covariance, config.noise_power_w, 0.0, self.velocities_mps, layout)

    def __call__(self, delta_v_mps: np.ndarray) -> np.ndarray:
        v = np.asarray(delta_v_mps, dtype=np.float64)
        wrapped = np.mod(v + self.blind_speed_mps / 2, self.blind_speed_mps) - self.blind_speed_mps / 2
        return np.interp(wrapped, self.velocities_mps, self.loss, period=self.blind_speed_mps)

    def mdv_mps(self, loss_db: float = -5.0) -> float:
        """Smallest |Δv| > 0 at which the loss rises above ``loss_db`` (the minimum detectable velocity)."""
        threshold = 10 ** (loss_db / 10)
        positive = self.velocities_mps >= 0
        v, loss = self.velocities_mps[positive], self.loss[positive]
        above = np.nonzero(loss >= threshold)[0]
        if above.size == 0:
            return float("inf")
        k = above[0]
        if k == 0:
            return 0.0
        return float(np.interp(threshold, [loss[k - 1], loss[k]], [v[k - 1], v[k]]))
