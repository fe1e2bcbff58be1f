"""radar_sim in process: IQ dwells carry a calibrated cube, bad orbit states are rejected and counted."""

from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter

from sbamti.orbit.elements import load_element_sets, select
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.ros.arrays import interleaved_to_complex
from sbamti_msgs.msg import OrbitState, RadarDwell
from sbamti_nodes.radar_sim import RadarSimNode, hermite_state

REPO = Path(__file__).resolve().parents[1]
SCENARIO = Path(__file__).parent / "radar_data" / "visible_area.yaml"
TLE = REPO / "config" / "constellations" / "small_4sat.tle"
START_NS = 1_830_297_600 * 10**9


def _states(times_ns):
    sets = select(load_element_sets(TLE).element_sets, ["sbamti_001"])
    states = compute_states(Propagator(sets), np.asarray(times_ns, dtype=np.int64))
    out = []
    for t, ns in enumerate(times_ns):
        msg = OrbitState()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(ns), 10**9)
        msg.satellite_id, msg.catalog_number = "sbamti_001", 90001
        msg.position_ecef = states.position_ecef_m[0, t]
        msg.velocity_ecef = states.velocity_ecef_mps[0, t]
        msg.attitude_lvlh_to_ecef = states.attitude_lvlh_to_ecef[0, t]
        out.append(msg)
    return out


def _node(context, **params):
    overrides = [Parameter("scenario_file", value=str(SCENARIO)), Parameter("use_sim_time", value=False)]
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    return RadarSimNode(context=context, parameter_overrides=overrides)


def test_iq_dwell_carries_a_noise_calibrated_cube(ros_context):
    node = _node(ros_context, fidelity="iq", num_range_bins=100, dwell_rate_hz=2.0, clutter=False)
    first, second = _states([START_NS, START_NS + 10**9])
    dwells = node.dwells_between(first, second)
    assert len(dwells) == 2 and all(d.fidelity == RadarDwell.FIDELITY_IQ for d in dwells)
    dwell = dwells[0]
    shape = (dwell.num_channels, dwell.num_pulses, dwell.num_range_bins)
    assert shape == (16, 32, 100)
    cube = interleaved_to_complex(dwell.iq_interleaved, shape)
    # noise per sample k T0 B F (targets occupy a handful of the 51,200 cells at most)
    assert np.median(np.abs(cube) ** 2) / dwell.noise_power_w == pytest.approx(np.log(2), rel=0.05)
    assert dwell.range_first_bin_m < np.linalg.norm(np.asarray(dwell.beam_centre_ecef)
                                                    - np.asarray(dwell.satellite_position_ecef))
    node.destroy_node()


def test_bad_and_out_of_order_states_are_rejected(ros_context):
    node = _node(ros_context)
    good, later = _states([START_NS + 10**9, START_NS + 2 * 10**9])
    node._on_state(later)
    node._on_state(good)                         # older than the last accepted
    broken = _states([START_NS + 3 * 10**9])[0]
    broken.position_ecef = np.array([np.nan, 0.0, 0.0])
    node._on_state(broken)
    assert node.rejections == {"orbit/state:out_of_order": 1, "orbit/state:invalid": 1}
    assert node.messages_in == 1
    node.destroy_node()


def test_hermite_interpolation_is_exact_for_a_cubic():
    coefficients = np.array([[1.0, -2.0, 0.5, 0.25], [3.0, 0.0, -1.0, 2.0], [0.0, 1.0, 1.0, -0.5]])
    position = lambda t: coefficients @ np.array([1, t, t**2, t**3])            # noqa: E731
    velocity = lambda t: coefficients @ np.array([0, 1, 2 * t, 3 * t**2])        # noqa: E731
    p, v = hermite_state(0.0, position(0.0), velocity(0.0), 2.0, position(2.0), velocity(2.0), 0.7)
    assert np.allclose(p, position(0.7), atol=1e-12) and np.allclose(v, velocity(0.7), atol=1e-12)


def test_iq_dwell_with_clutter_has_the_clutter_power_above_noise(ros_context):
    """The cube's mean power over noise matches the clutter model's CNR of its patches (±1.5 dB)."""
    node = _node(ros_context, fidelity="iq", num_range_bins=60, dwell_rate_hz=1.0, clutter=True)
    first, second = _states([START_NS, START_NS + 10**9])
    (dwell,) = node.dwells_between(first, second)
    cube = interleaved_to_complex(dwell.iq_interleaved, (dwell.num_channels, dwell.num_pulses, dwell.num_range_bins))
    measured_cnr_db = 10 * np.log10(np.mean(np.abs(cube) ** 2) / dwell.noise_power_w - 1.0)
    # the clutter model's own CNR per channel per pulse for this dwell's geometry, bin by bin
    from sbamti.radar.beam import antenna_axes
    from sbamti.radar.clutter import clutter_patches, clutter_to_noise_per_channel_per_pulse
    from sbamti.radar.config import RadarConfig
    from sbamti.radar.iq import CubeLayout
    radar = RadarConfig()
    layout = CubeLayout(channel_x_m=radar.channel_positions_antenna_m[:, 0], num_pulses=dwell.num_pulses,
                        num_range_bins=dwell.num_range_bins, prf_hz=dwell.prf_hz, wavelength_m=radar.wavelength_m,
                        sample_rate_hz=dwell.sample_rate_hz, range_first_bin_m=dwell.range_first_bin_m)
    sat, vel = np.asarray(dwell.satellite_position_ecef), np.asarray(dwell.satellite_velocity_ecef)
    patches = clutter_patches(radar, layout, sat, vel, antenna_axes(sat, vel, np.asarray(dwell.beam_centre_ecef)))
    expected = np.mean([clutter_to_noise_per_channel_per_pulse(patches, bin_, dwell.noise_power_w)
                        for bin_ in range(dwell.num_range_bins)])
    assert 5.0 < measured_cnr_db < 30.0          # clutter dominates noise at these grazing angles (γ = -10 dB)
    assert abs(measured_cnr_db - 10 * np.log10(expected)) < 1.5
    node.destroy_node()


def test_target_amplitudes_follow_their_swerling_model(ros_context):
    node = _node(ros_context, fidelity="iq", clutter=False)
    models = np.array([0, 1, 2, 0])
    power = np.array([4.0, 1.0, 1.0, 9.0])
    amplitudes = node._amplitudes(models, power, np.random.default_rng(1))
    assert amplitudes.shape == (4, node.radar.pulses_per_cpi)
    assert np.allclose(np.abs(amplitudes[[0, 3]]) ** 2, power[[0, 3], None])      # Swerling 0: constant power
    assert np.allclose(amplitudes[1], amplitudes[1, 0])                          # Swerling 1: one draw per dwell
    assert np.std(np.abs(amplitudes[2])) > 0.1                                   # Swerling 2: pulse to pulse
    node.destroy_node()


def test_detector_finds_a_target_injected_in_an_iq_dwell(ros_context):
    """radar_sim's IQ dwell (noise only) plus a target injected at a known place → onboard_detector."""
    from sbamti.radar.iq import CubeLayout, add_point_targets
    from sbamti.ros.arrays import complex_to_interleaved
    from sbamti_nodes.onboard_detector import OnboardDetectorNode

    node = _node(ros_context, fidelity="iq", num_range_bins=200, dwell_rate_hz=1.0, clutter=False)
    first, second = _states([START_NS, START_NS + 10**9])
    (dwell,) = node.dwells_between(first, second)
    shape = (dwell.num_channels, dwell.num_pulses, dwell.num_range_bins)
    cube = interleaved_to_complex(dwell.iq_interleaved, shape).copy()
    layout = CubeLayout(channel_x_m=node.radar.channel_positions_antenna_m[:, 0], num_pulses=shape[1],
                        num_range_bins=shape[2], prf_hz=dwell.prf_hz, wavelength_m=node.radar.wavelength_m,
                        sample_rate_hz=dwell.sample_rate_hz, range_first_bin_m=dwell.range_first_bin_m)
    vel = np.asarray(dwell.satellite_velocity_ecef)
    boresight = np.asarray(dwell.beam_direction_ecef)
    clutter_rate = -float(boresight @ vel)
    true_range = dwell.range_first_bin_m + 100 * layout.range_bin_m
    true_rate = clutter_rate + 25.0                                   # 25 m/s opening relative to the ground
    amplitude = np.sqrt(10 ** 0.3 * dwell.noise_power_w)             # +3 dB per sample
    add_point_targets(cube, layout, true_range, true_rate, 0.0, amplitude)
    dwell.iq_interleaved = complex_to_interleaved(cube)
    detector = OnboardDetectorNode(context=ros_context, parameter_overrides=[Parameter("use_sim_time", value=False)])
    out = detector.detect(dwell)
    assert out.header.stamp == dwell.header.stamp
    best = max(out.detections, key=lambda d: d.snr_db)
    assert abs(best.range_m - true_range) < 15.0                      # within half a 30 m bin
    assert abs(best.range_rate_mps - true_rate) < 2.0                 # within a 3.5 m/s Doppler bin
    assert best.snr_db > 20.0
    node.destroy_node()
    detector.destroy_node()


def test_uplink_commands_set_standby_and_the_areas_of_interest(ros_context):
    from sbamti_msgs.msg import UplinkCommand
    node = _node(ros_context, dwell_rate_hz=5.0)
    states = _states([START_NS + k * 10**9 for k in range(5)])
    assert len(node.dwells_between(states[0], states[1])) == 5          # 'near' is in view: a dwell every 0.2 s
    node._on_command(UplinkCommand(command_id=1, kind=UplinkCommand.KIND_SET_RADAR_MODE,
                                   radar_mode=UplinkCommand.RADAR_MODE_STANDBY))
    assert node.dwells_between(states[1], states[2]) == []
    node._on_command(UplinkCommand(command_id=2, kind=UplinkCommand.KIND_SET_RADAR_MODE,
                                   radar_mode=UplinkCommand.RADAR_MODE_SEARCH))
    resumed = node.dwells_between(states[2], states[3])
    assert len(resumed) == 5 and resumed[0].dwell_in_look == 0
    # Only the far area (on the other side of the Earth, never visible here): no dwells.
    node._on_command(UplinkCommand(command_id=3, kind=UplinkCommand.KIND_SET_AREAS_OF_INTEREST, area_names=["far"]))
    assert node.dwells_between(states[3], states[4]) == []
    # Unknown names and modes are refused and change nothing.
    node._on_command(UplinkCommand(command_id=4, kind=UplinkCommand.KIND_SET_AREAS_OF_INTEREST, area_names=["mars"]))
    node._on_command(UplinkCommand(command_id=5, kind=UplinkCommand.KIND_SET_RADAR_MODE, radar_mode=7))
    assert node.rejections == {"uplink/commands:unknown_area": 1, "uplink/commands:unknown_mode": 1}
    assert node.scheduler.enabled.sum() == (node.cell_area == 1).sum()
    node._on_command(UplinkCommand(command_id=6, kind=UplinkCommand.KIND_SET_AREAS_OF_INTEREST, area_names=[]))
    assert node.scheduler.enabled.all()
    node.destroy_node()
