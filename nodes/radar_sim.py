"""radar_sim: the world as one satellite's radar sees it — dwells over the visible areas of interest.

Driven by its satellite's ``orbit/state`` (sim time): when state k+1 arrives, the dwells between
states k and k+1 are generated at ``dwell_rate_hz`` (satellite position and velocity by cubic
Hermite interpolation between the two states, exact to centimetres at a 1 s state period). Each
dwell points at the least recently visited beam cell of the scenario's areas that is visible within
the radar's grazing limits; where none is visible no dwell is published. ``fidelity``:
``statistical`` draws per-return measurements (``sbamti.radar.statistical``, with the clutter model's
STAP SINR loss), ``iq`` synthesises the complex cube [channel, pulse, range bin] (thermal noise,
constant-gamma clutter with range ambiguities and Earth rotation, targets; ``sbamti.radar.iq`` and
``sbamti.radar.clutter``).
Randomness per dwell comes from ``default_rng([seed, catalog number, dwell index])``, so a run is
the same at any replay speed. One instance (``publish_truth``) also publishes ``/truth/targets`` at
each orbit-state epoch, for evaluation only. Ground commands arrive on ``uplink/commands`` (from
downlink_tx, once authenticated): ``RADAR_MODE_STANDBY`` stops the dwells until ``SEARCH``;
``SET_AREAS_OF_INTEREST`` limits the schedule to the named scenario areas (none named = all).
"""

from __future__ import annotations

import numpy as np
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from sbamti.errors import ConfigurationError
from sbamti.radar.beam import BeamScheduler, antenna_axes, area_cells
from sbamti.radar.clutter import add_clutter, clutter_patches
from sbamti.radar.clutter_loss import ClutterLossTable
from sbamti.radar.config import RadarConfig
from sbamti.radar.equation import snr_per_channel_per_pulse
from sbamti.radar.geometry import look_geometry
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise
from sbamti.radar.scenario import load_scenario
from sbamti.radar.statistical import DwellGeometry, statistical_dwell, target_returns, two_way_pattern_power
from sbamti.radar.swerling import sample_complex_amplitude
from sbamti.ros.arrays import complex_to_interleaved, to_field
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.timeutil import split_ns, stamp_ns
from sbamti_msgs.msg import OrbitState, RadarDwell, TruthTarget, TruthTargetArray, UplinkCommand

FIDELITIES = ("statistical", "iq")


def _fidelity(value: str) -> str:
    if value not in FIDELITIES:
        raise ConfigurationError(f"parameter 'fidelity': {value!r} is not one of {', '.join(FIDELITIES)}")
    return value


PARAMETERS = (
    ParamSpec("scenario_file", "", "scenario YAML (config/scenarios/)", read_only=True),
    ParamSpec("radar_config_file", "", "radar YAML with a 'radar:' section; '' = the baseline", read_only=True),
    ParamSpec("fidelity", "statistical", "statistical | iq", read_only=True, check=_fidelity),
    ParamSpec("dwell_rate_hz", 10.0, "dwells per second of sim time (Hz)", minimum=0.01, maximum=1000.0,
              read_only=True),
    ParamSpec("pfa", 1e-6, "false-alarm probability per range-Doppler cell", minimum=1e-12, maximum=0.1,
              read_only=True),
    ParamSpec("num_range_bins", 1000, "range bins per dwell (cube depth; false-alarm map size)", minimum=1,
              maximum=100000, read_only=True),
    ParamSpec("cell_spacing_m", 20000.0, "beam-cell spacing over the areas of interest (m)", minimum=100.0,
              read_only=True),
    ParamSpec("publish_truth", False, "publish /truth/targets (one instance per graph)", read_only=True),
    ParamSpec("clutter", True, "ground clutter: in the cube (iq) or as the STAP SINR loss (statistical)",
              read_only=True),
)

DWELL_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
STATE_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
TRUTH_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# As downlink_tx publishes them: a restarted radar_sim replays the recent commands in order.
COMMAND_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def hermite_state(t0: float, p0, v0, t1: float, p1, v1, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Cubic Hermite position and velocity at ``t`` from (position, velocity) at ``t0`` and ``t1`` (s)."""
    h = t1 - t0
    s = (t - t0) / h
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    d00, d10, d01, d11 = 6 * s**2 - 6 * s, 3 * s**2 - 4 * s + 1, -6 * s**2 + 6 * s, 3 * s**2 - 2 * s
    position = h00 * p0 + h10 * h * v0 + h01 * p1 + h11 * h * v1
    velocity = (d00 * p0 + d01 * p1) / h + d10 * v0 + d11 * v1
    return position, velocity


class RadarSimNode(SbamtiNode):
    """Dwells of one satellite's radar over the scenario's areas of interest."""

    def __init__(self, **kwargs) -> None:
        super().__init__("radar_sim", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        if not cfg["scenario_file"]:
            raise ConfigurationError("parameter 'scenario_file': required (a scenario YAML path)")
        self.scenario = load_scenario(cfg["scenario_file"])
        self.radar = RadarConfig.from_yaml(cfg["radar_config_file"]) if cfg["radar_config_file"] else RadarConfig()
        self.fidelity = cfg["fidelity"]
        self.dwell_period_ns = int(round(1e9 / cfg["dwell_rate_hz"]))
        self.pfa = cfg["pfa"]
        self.num_range_bins = cfg["num_range_bins"]
        self.clutter = cfg["clutter"]
        # statistical fidelity: the clutter model's SINR loss, tabulated once per PRF
        self.clutter_loss = {prf: ClutterLossTable(self.radar, prf) for prf in self.radar.prf_set_hz} \
            if self.clutter and self.fidelity == "statistical" else {}
        cells = [area_cells(area, cfg["cell_spacing_m"]) for area in self.scenario.areas]
        lat = np.concatenate([c[0] for c in cells]) if cells else np.empty(0)
        lon = np.concatenate([c[1] for c in cells]) if cells else np.empty(0)
        self.cell_area = np.concatenate([np.full(len(c[0]), i) for i, c in enumerate(cells)]) if cells \
            else np.empty(0, dtype=int)
        self.standby = False
        self.scheduler = BeamScheduler(lat, lon, np.radians(self.radar.grazing_min_deg),
                                       np.radians(self.radar.grazing_max_deg),
                                       np.radians(self.radar.azimuth_scan_limit_deg))
        self._previous: OrbitState | None = None
        self._next_dwell_ns: int | None = None
        self._dwell_index = 0
        self._look_cell: int | None = None   # a look: one dwell per PRF of the set, on one beam cell
        self._dwell_pub = self.create_publisher(RadarDwell, "radar/dwell", DWELL_QOS)
        self._truth_pub = self.create_publisher(TruthTargetArray, "/truth/targets", TRUTH_QOS) \
            if cfg["publish_truth"] else None
        self.create_subscription(OrbitState, "orbit/state", self._on_state, STATE_QOS)
        self.create_subscription(UplinkCommand, "uplink/commands", self._on_command, COMMAND_QOS)
        self.get_logger().info(
            f"scenario {self.scenario.name!r}: {len(self.scenario.targets)} targets, {len(self.scheduler)} beam cells; "
            f"{self.fidelity} dwells at {cfg['dwell_rate_hz']:g} Hz")

    # -- inputs -------------------------------------------------------------------------------
    def _on_state(self, msg: OrbitState) -> None:
        position, velocity = np.asarray(msg.position_ecef), np.asarray(msg.velocity_ecef)
        now_ns = stamp_ns(msg.header.stamp)
        if msg.sgp4_error_code != 0 or not (np.all(np.isfinite(position)) and np.all(np.isfinite(velocity))):
            self.reject("orbit/state:invalid", f"state at {now_ns} ns: sgp4_error_code {msg.sgp4_error_code}, "
                                               f"position_ecef {list(position)}")
            return
        previous = self._previous
        if previous is not None:
            previous_ns = stamp_ns(previous.header.stamp)
            if now_ns <= previous_ns:
                self.reject("orbit/state:out_of_order", f"stamp {now_ns} ns not after the previous {previous_ns} ns")
                return
        self.messages_in += 1
        if self._truth_pub is not None:
            self._truth_pub.publish(self.truth_message(now_ns))
        if previous is not None:
            self.dwells_between(previous, msg)
        self._previous = msg

    def _on_command(self, msg: UplinkCommand) -> None:
        """Radar commands from the ground (accepted by downlink_tx): mode, and the areas to cover."""
        if msg.kind == UplinkCommand.KIND_SET_RADAR_MODE:
            if msg.radar_mode not in (UplinkCommand.RADAR_MODE_STANDBY, UplinkCommand.RADAR_MODE_SEARCH):
                self.reject("uplink/commands:unknown_mode", f"command {msg.command_id}: radar_mode {msg.radar_mode}")
                return
            standby = msg.radar_mode == UplinkCommand.RADAR_MODE_STANDBY
            if self.standby and not standby:   # resume with a fresh look
                per_look = len(self.radar.prf_set_hz)
                self._dwell_index = -(-self._dwell_index // per_look) * per_look
            self.standby = standby
        elif msg.kind == UplinkCommand.KIND_SET_AREAS_OF_INTEREST:
            names = [a.name for a in self.scenario.areas]
            unknown = [n for n in msg.area_names if n not in names]
            if unknown:
                self.reject("uplink/commands:unknown_area", f"command {msg.command_id}: areas {unknown} are not in "
                                                            f"scenario {self.scenario.name!r} (it has {names})")
                return
            chosen = [names.index(n) for n in msg.area_names] or list(range(len(names)))
            self.scheduler.enabled = np.isin(self.cell_area, chosen)
        else:
            return   # not a radar command
        self.messages_in += 1
        what = (("standby" if self.standby else "search") if msg.kind == UplinkCommand.KIND_SET_RADAR_MODE
                else f"areas of interest {list(msg.area_names) or 'all'}")
        self.get_logger().info(f"uplink command {msg.command_id}: {what}")

    # -- dwells -------------------------------------------------------------------------------
    def dwells_between(self, first: OrbitState, second: OrbitState) -> list[RadarDwell]:
        """Publish the dwells with times in [first, second) (and return them)."""
        t0 = stamp_ns(first.header.stamp)
        t1 = stamp_ns(second.header.stamp)
        if self._next_dwell_ns is None or self._next_dwell_ns < t0:
            self._next_dwell_ns = -(-t0 // self.dwell_period_ns) * self.dwell_period_ns  # first grid time >= t0
        published = []
        p0, v0 = np.asarray(first.position_ecef), np.asarray(first.velocity_ecef)
        p1, v1 = np.asarray(second.position_ecef), np.asarray(second.velocity_ecef)
        while self._next_dwell_ns < t1:
            t = self._next_dwell_ns
            position, velocity = hermite_state(0.0, p0, v0, (t1 - t0) / 1e9, p1, v1, (t - t0) / 1e9)
            msg = self.dwell(t, position, velocity, first)
            if msg is not None:
                self._dwell_pub.publish(msg)
                self.messages_out += 1
                published.append(msg)
            self._next_dwell_ns += self.dwell_period_ns
        return published

    def dwell(self, utc_ns: int, sat_pos, sat_vel, state: OrbitState) -> RadarDwell | None:
        """The next dwell: a new look starts on the least recently visited visible cell; its remaining
        dwells stay on that cell, one per PRF of the set (PRF diversity for velocity ambiguity)."""
        if self.standby:
            return None
        dwells_in_look = len(self.radar.prf_set_hz)
        look_index, dwell_in_look = divmod(self._dwell_index, dwells_in_look)   # looks are never cut short
        if dwell_in_look == 0:
            self._look_cell = self.scheduler.next_cell(sat_pos, utc_ns, sat_vel)
        cell = self._look_cell
        if cell is None:
            return None
        centre = self.scheduler.cells_ecef_m[cell]
        axes = antenna_axes(sat_pos, sat_vel, centre)
        prf = self.radar.prf_for_dwell(self._dwell_index)
        geometry = DwellGeometry(utc_ns, sat_pos, sat_vel, centre, axes, prf)
        rng = np.random.default_rng([self.scenario.seed, state.catalog_number, self._dwell_index])
        truth = self.scenario.truth_at(utc_ns)
        msg = self._dwell_header(geometry, state)
        msg.dwell_id = self._dwell_index
        msg.look_id = look_index
        msg.dwell_in_look = dwell_in_look
        msg.dwells_in_look = dwells_in_look
        if self.fidelity == "statistical":
            returns = statistical_dwell(self.radar, geometry, truth.position_ecef, truth.velocity_ecef, truth.rcs_m2,
                                        truth.swerling_model, rng, pfa=self.pfa, num_range_bins=self.num_range_bins,
                                        clutter_loss=self.clutter_loss.get(prf))
            msg.fidelity = RadarDwell.FIDELITY_STATISTICAL
            msg.return_range_m = to_field(returns.range_m, np.float64)
            msg.return_range_rate_mps = to_field(returns.range_rate_mps, np.float64)
            msg.return_azimuth_rad = to_field(returns.azimuth_rad, np.float64)
            msg.return_elevation_rad = to_field(returns.elevation_rad, np.float64)
            msg.return_snr = to_field(returns.snr, np.float64)
        else:
            cube, layout = self.cube(geometry, truth, rng)
            msg.fidelity = RadarDwell.FIDELITY_IQ
            msg.num_channels, msg.num_pulses, msg.num_range_bins = layout.shape
            msg.range_first_bin_m = float(layout.range_first_bin_m)
            msg.iq_interleaved = complex_to_interleaved(cube)
        self._dwell_index += 1
        return msg

    def cube(self, geometry: DwellGeometry, truth, rng) -> tuple[np.ndarray, CubeLayout]:
        """Thermal noise, constant-gamma ground clutter (``clutter`` parameter) and the targets in the beam."""
        radar = self.radar
        bin_m = 299_792_458.0 / (2.0 * radar.sample_rate_hz)
        layout = CubeLayout(channel_x_m=radar.channel_positions_antenna_m[:, 0], num_pulses=radar.pulses_per_cpi,
                            num_range_bins=self.num_range_bins, prf_hz=geometry.prf_hz,
                            wavelength_m=radar.wavelength_m, sample_rate_hz=radar.sample_rate_hz,
                            range_first_bin_m=geometry.beam_range_m - self.num_range_bins * bin_m / 2)
        cube = thermal_noise(layout.shape, radar.noise_power_w, rng)
        if self.clutter:
            patches = clutter_patches(radar, layout, geometry.sat_pos_ecef_m, geometry.sat_vel_ecef_mps,
                                      geometry.antenna_axes)
            add_clutter(cube, layout, patches, rng)
        if len(truth.target_id):
            slant, rate, az, el, _ = target_returns(radar, geometry, truth.position_ecef, truth.velocity_ecef)
            pattern = two_way_pattern_power(radar, az, el)
            mean_power = snr_per_channel_per_pulse(radar, truth.rcs_m2, slant, geometry.prf_hz) * pattern \
                * radar.noise_power_w
            in_front = (truth.position_ecef - geometry.sat_pos_ecef_m) @ geometry.antenna_axes[2] > 0.0
            keep = (pattern > 1e-6) & in_front
            amplitudes = self._amplitudes(truth.swerling_model[keep], np.atleast_1d(mean_power)[keep], rng)
            add_point_targets(cube, layout, slant[keep], rate[keep], az[keep], amplitudes)
        return cube, layout

    def _amplitudes(self, models: np.ndarray, mean_power_w: np.ndarray, rng) -> np.ndarray:
        """(T, M) complex target amplitudes: one draw per dwell for Swerling 0/1/3, per pulse for 2/4."""
        pulses = self.radar.pulses_per_cpi
        out = np.empty((models.size, pulses), dtype=np.complex128)
        for model in np.unique(models):
            chosen = models == model
            power = mean_power_w[chosen]
            if model in (2, 4):
                out[chosen] = sample_complex_amplitude(int(model), power[:, None], (power.size, pulses), rng)
            else:
                out[chosen] = sample_complex_amplitude(int(model), power, (power.size,), rng)[:, None]
        return out

    def _dwell_header(self, geometry: DwellGeometry, state: OrbitState) -> RadarDwell:
        radar = self.radar
        msg = RadarDwell()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(geometry.utc_ns)
        msg.header.frame_id = "itrs"
        msg.satellite_id = state.satellite_id
        msg.satellite_position_ecef = geometry.sat_pos_ecef_m
        msg.satellite_velocity_ecef = geometry.sat_vel_ecef_mps
        msg.attitude_lvlh_to_ecef = np.asarray(state.attitude_lvlh_to_ecef)
        msg.beam_centre_ecef = geometry.beam_centre_ecef_m
        msg.beam_direction_ecef = geometry.antenna_axes[2]
        msg.grazing_angle_rad = float(look_geometry(geometry.sat_pos_ecef_m, geometry.beam_centre_ecef_m[None, :])
                                      .grazing_angle_rad[0])
        msg.carrier_frequency_hz = radar.carrier_frequency_hz
        msg.bandwidth_hz = radar.bandwidth_hz
        msg.sample_rate_hz = radar.sample_rate_hz
        msg.prf_hz = geometry.prf_hz
        msg.pulse_width_s = radar.pulse_width_for_prf_s(geometry.prf_hz)
        msg.noise_power_w = radar.noise_power_w
        msg.channel_positions_antenna_m = to_field(radar.channel_positions_antenna_m, np.float64)
        return msg

    # -- truth --------------------------------------------------------------------------------
    def truth_message(self, utc_ns: int) -> TruthTargetArray:
        truth = self.scenario.truth_at(utc_ns)
        msg = TruthTargetArray()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(utc_ns)
        msg.header.frame_id = "itrs"
        targets = []
        for i in range(len(truth.target_id)):
            target = TruthTarget()
            target.target_id = int(truth.target_id[i])
            target.target_class = str(truth.target_class[i])
            target.position_ecef = truth.position_ecef[i]
            target.velocity_ecef = truth.velocity_ecef[i]
            target.latitude_rad = float(truth.lat_rad[i])
            target.longitude_rad = float(truth.lon_rad[i])
            target.altitude_m = float(truth.alt_m[i])
            target.speed_mps = float(truth.speed_mps[i])
            target.heading_rad = float(truth.heading_rad[i])
            target.rcs_m2 = float(truth.rcs_m2[i])
            target.swerling_model = int(truth.swerling_model[i])
            targets.append(target)
        msg.targets = targets
        return msg


def main(args=None) -> int:
    return run_node(RadarSimNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
