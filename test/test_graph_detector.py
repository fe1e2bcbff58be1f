"""Graph test: orbit_state → radar_sim → onboard_detector on one satellite puts a scripted target in
the right place, with a covariance that covers the error."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from sbamti.radar.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIO = Path(__file__).parent / "radar_data" / "scripted_target.yaml"
TLE = REPO / "config" / "constellations" / "small_4sat.tle"
STRONG_DB = 15.0        # false alarms sit just above the 11.4 dB threshold (Pfa 1e-6); the airliner far above

pytestmark = pytest.mark.timeout(150)


def _launch_file(path: Path, clock_rate: float, radar_params: dict, detector_params: dict) -> Path:
    """sim_clock → orbit_state → radar_sim → onboard_detector for sbamti_001, written to ``path``."""
    sat = "sbamti_001"

    def node(exe, params):
        return {"node": {"pkg": "sbamti", "exec": exe, "name": exe, "namespace": f"/{sat}",
                         "param": [{"name": k, "value": v} for k, v in params.items()]}}
    doc = {"launch": [
        {"node": {"pkg": "sbamti", "exec": "sim_clock", "name": "sim_clock", "on_exit": "shutdown",
                  "param": [{"name": "rate", "value": clock_rate}, {"name": "wait_for_subscribers", "value": 4}]}},
        node("orbit_state", {"tle_file": str(TLE), "satellites": [sat], "layout": "namespace"}),
        node("radar_sim", radar_params),
        node("onboard_detector", detector_params),
    ]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(launch_graph, path: Path):
    """Start the graph, wait until the detections topic is matched, then let sim time run; (graph, topic)."""
    graph = launch_graph(path)
    topic = "/sbamti_001/detections"
    graph.subscribe(topic, "sbamti_msgs/msg/DetectionArray")
    graph.wait_ready(nodes=["/sbamti_001/orbit_state", "/sbamti_001/radar_sim", "/sbamti_001/onboard_detector"],
                     timeout=40)
    graph.wait_matched([topic])
    graph.subscribe("/clock", "rosgraph_msgs/msg/Clock")          # the fourth /clock listener: time runs
    return graph, topic


def _launch(tmp_path: Path) -> Path:
    return _launch_file(tmp_path / "detector.launch.yaml", 10.0,
                        {"scenario_file": str(SCENARIO), "dwell_rate_hz": 5.0, "cell_spacing_m": 2000.0,
                         "num_range_bins": 200},
                        {"assumed_altitude_m": 10000.0, "altitude_std_m": 300.0})


def test_scripted_target_is_detected_at_its_position(launch_graph, tmp_path):
    graph, topic = _run(launch_graph, _launch(tmp_path))
    strong = lambda arrays: [d for a in arrays for d in a.detections if d.snr_db > STRONG_DB]  # noqa: E731
    graph.wait_for_messages(topic, count=1, timeout=60, predicate=lambda a: bool(strong([a])))
    arrays = graph.wait_for_messages(topic, count=60, timeout=60)
    scenario = load_scenario(SCENARIO)
    checked = 0
    for array in arrays:
        # housekeeping: statistical dwells test their returns against -ln(Pfa) = 11.4 dB at Pfa 1e-6
        assert array.threshold_db == pytest.approx(10 * np.log10(-np.log(1e-6)))
        assert array.cells_tested >= array.threshold_crossings == array.clusters >= len(array.detections)
        stamp = array.header.stamp.sec * 10**9 + array.header.stamp.nanosec
        truth = scenario.truth_at(stamp)
        for detection in strong([array]):
            error = np.asarray(detection.position_ecef) - truth.position_ecef[0]
            covariance = np.asarray(detection.position_covariance_ecef).reshape(3, 3)
            assert np.linalg.norm(error) < 3000.0                   # m
            assert error @ np.linalg.solve(covariance, error) < 16.27   # chi-square(3), 99.9 %
            assert abs(detection.altitude_m - 10000.0) < 1.0         # on the assumed-altitude surface
            checked += 1
    assert checked >= 1
    assert graph.shutdown() == 0


FAST = Path(__file__).parent / "radar_data" / "fast_target_iq.yaml"


def _iq_launch(tmp_path: Path) -> Path:
    radar = tmp_path / "radar_prf3.yaml"
    radar.write_text("radar:\n  prf_set_hz: [7000.0, 7500.0, 8100.0]\n")
    return _launch_file(tmp_path / "detector_iq.launch.yaml", 2.0,
                        {"scenario_file": str(FAST), "radar_config_file": str(radar), "fidelity": "iq",
                         "dwell_rate_hz": 5.0, "cell_spacing_m": 700.0, "num_range_bins": 400,
                         "clutter": False},   # IQ clutter synthesis takes seconds per dwell; STAP in clutter is unit-tested
                        {"radar_config_file": str(radar), "assumed_altitude_m": 3000.0, "pfa": 1e-4,
                         "altitude_std_m": 300.0})


def test_iq_looks_resolve_a_fast_target_range_rate_across_prfs(launch_graph, tmp_path):
    """IQ dwells at three PRFs (noise and one airliner at ~150 m/s radial speed over the ground): each
    look's range rates are unfolded across its dwells; resolved ones equal the truth, unresolved ones
    (the target seen in one dwell of the look) are the truth modulo the blind speed."""
    graph, topic = _run(launch_graph, _iq_launch(tmp_path))
    strong = lambda arrays: [d for a in arrays for d in a.detections if d.snr_db > 13.0]  # noqa: E731  (Pfa 1e-4)
    graph.wait_for_messages(topic, count=8, timeout=90,
                            predicate=lambda a: any(d.range_rate_resolved for d in strong([a])))
    arrays = graph.messages(topic)                                           # everything received so far
    scenario = load_scenario(FAST)
    resolved, beyond_half_blind, folded = 0, 0, 0
    for array in arrays:
        # housekeeping: the whole 32 x 400 range-Doppler map against the CA-CFAR factor for Pfa 1e-4
        assert array.cells_tested == 32 * 400 and 0.0 < array.processing_time_s < 5.0
        assert 9.0 < array.threshold_db < 11.0 and array.threshold_crossings >= array.clusters >= len(array.detections)
        stamp = array.header.stamp.sec * 10**9 + array.header.stamp.nanosec
        truth = scenario.truth_at(stamp)
        sat, sat_vel = np.asarray(array.satellite_position_ecef), np.asarray(array.satellite_velocity_ecef)
        line = truth.position_ecef[0] - sat
        true_rate = float(line @ (truth.velocity_ecef[0] - sat_vel) / np.linalg.norm(line))
        boresight = np.asarray(array.beam_centre_ecef) - sat
        clutter_rate = -float(boresight @ sat_vel / np.linalg.norm(boresight))
        for detection in strong([array]):
            if abs(detection.range_m - np.linalg.norm(line)) > 100.0:
                continue                                                     # not the target
            error = detection.range_rate_mps - true_rate
            blind = detection.range_rate_blind_speed_mps
            if detection.range_rate_resolved:
                resolved += 1
                beyond_half_blind += abs(true_rate - clutter_rate) > blind / 2
                assert abs(error) < 4 * detection.range_rate_std_mps + 1.0, (detection.range_rate_mps, true_rate)
            else:
                folded += 1
                assert abs((error + blind / 2) % blind - blind / 2) < 1.0, (detection.range_rate_mps, true_rate)
    assert resolved >= 8
    assert beyond_half_blind == resolved        # each needed unfolding: one PRF alone would have been wrong
    assert graph.shutdown() == 0
