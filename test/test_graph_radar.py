"""Graph test: radar_sim driven by orbit_state on sim time dwells only on the areas its satellite sees."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from sbamti.geo.wgs84 import ecef_to_geodetic
from sbamti.orbit.elements import load_element_sets, select
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.radar.config import RadarConfig
from sbamti.radar.geometry import look_geometry
from sbamti.radar.scenario import load_scenario
from sbamti.ros.arrays import from_field

REPO = Path(__file__).resolve().parents[1]
SCENARIO = Path(__file__).parent / "radar_data" / "visible_area.yaml"
TLE = REPO / "config" / "constellations" / "small_4sat.tle"
START_NS = 1_830_297_600 * 10**9
DWELL_PERIOD_NS = 200_000_000   # dwell_rate_hz 5

pytestmark = pytest.mark.timeout(120)


def _launch(tmp_path: Path) -> Path:
    sat = "sbamti_001"
    node = lambda exe, params: {"node": {"pkg": "sbamti", "exec": exe, "name": exe, "namespace": f"/{sat}",  # noqa: E731
                                          "param": [{"name": k, "value": v} for k, v in params.items()]}}
    doc = {"launch": [
        {"node": {"pkg": "sbamti", "exec": "sim_clock", "name": "sim_clock", "on_exit": "shutdown",
                  "param": [{"name": "rate", "value": 10.0}, {"name": "wait_for_subscribers", "value": 3}]}},
        node("orbit_state", {"tle_file": str(TLE), "satellites": [sat], "layout": "namespace"}),
        # Pfa 1e-4 over 200 x 32 cells: ~0.64 false alarms per dwell, so returns flow in every run
        node("radar_sim", {"scenario_file": str(SCENARIO), "dwell_rate_hz": 5.0, "publish_truth": True,
                           "num_range_bins": 200, "pfa": 1e-4}),
    ]}
    path = tmp_path / "radar.launch.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_dwells_on_sim_time_only_over_visible_areas(launch_graph, tmp_path):
    graph = launch_graph(_launch(tmp_path))
    graph.subscribe("/sbamti_001/radar/dwell", "sbamti_msgs/msg/RadarDwell")
    graph.subscribe("/truth/targets", "sbamti_msgs/msg/TruthTargetArray")
    graph.wait_ready(nodes=["/sim_clock", "/sbamti_001/orbit_state", "/sbamti_001/radar_sim"], timeout=30)
    graph.wait_matched(["/sbamti_001/radar/dwell", "/truth/targets"])
    graph.subscribe("/clock", "rosgraph_msgs/msg/Clock")   # third /clock listener: time runs
    dwells = graph.wait_for_messages("/sbamti_001/radar/dwell", count=25, timeout=60)

    stamps = np.array([d.header.stamp.sec * 10**9 + d.header.stamp.nanosec for d in dwells])
    assert stamps[0] >= START_NS and np.all(stamps % DWELL_PERIOD_NS == 0) and np.all(np.diff(stamps) > 0)
    assert [d.dwell_id for d in dwells] == list(range(len(dwells)))
    radar = RadarConfig()
    near = load_scenario(SCENARIO).areas[0]
    for dwell in dwells:
        lat, lon, alt = ecef_to_geodetic(np.asarray(dwell.beam_centre_ecef))
        assert near.contains(lat, lon) and abs(alt) < 1.0        # only the area the satellite can see
        grazing = look_geometry(np.asarray(dwell.satellite_position_ecef), np.asarray(dwell.beam_centre_ecef))
        assert np.radians(radar.grazing_min_deg) <= grazing.grazing_angle_rad <= np.radians(radar.grazing_max_deg)
        assert dwell.fidelity == dwell.FIDELITY_STATISTICAL
        ranges = from_field(dwell.return_range_m, np.float64)
        assert ranges.size == from_field(dwell.return_snr, np.float64).size
    assert sum(from_field(d.return_range_m, np.float64).size for d in dwells) > 0   # returns flow
    # the satellite state at each dwell (Hermite between 1 Hz orbit states) is the library's state
    element_sets = select(load_element_sets(TLE).element_sets, ["sbamti_001"])
    expected = compute_states(Propagator(element_sets), stamps)
    got_position = np.array([d.satellite_position_ecef for d in dwells])
    got_velocity = np.array([d.satellite_velocity_ecef for d in dwells])
    # cubic Hermite over 1 s: millimetres in position, ~1 cm/s in velocity at mid-interval (1 Hz of
    # Doppler at X band, under 1 % of a 234 Hz Doppler bin)
    assert np.max(np.linalg.norm(got_position - expected.position_ecef_m[0], axis=1)) < 0.01      # m
    assert np.max(np.linalg.norm(got_velocity - expected.velocity_ecef_mps[0], axis=1)) < 0.02    # m/s
    truth = graph.wait_for_messages("/truth/targets", count=2, timeout=30)
    assert len(truth[-1].targets) == 9
    assert graph.shutdown() == 0
