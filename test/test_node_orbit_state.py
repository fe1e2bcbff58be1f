"""orbit_state node in process: bad satellites are reported on the status topic, the others go on;
sim-time cadence bookkeeping; flat array layout round trip."""

import time
from pathlib import Path

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile

from sbamti.errors import ConfigurationError
from sbamti.orbit.elements import load_element_sets
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.ros.arrays import from_field
from sbamti_msgs.msg import NodeStatus, OrbitState, OrbitStateArray
from sbamti_nodes.orbit_state import OrbitStateNode

REPO = Path(__file__).resolve().parents[1]
SMALL = (REPO / "config" / "constellations" / "small_4sat.tle").read_text().splitlines()
# Vallado's SGP4-VER.TLE case 28872: sub-orbital, decays (SGP4 error 6) within an hour of epoch.
DECAYING = ["MINOTAUR R/B",
            "1 28872U 05037B   05333.02012661  .25992681  00000-0  24476-3 0  1534",
            "2 28872  96.4736 157.9986 0303955 244.0492 110.6523 16.46015938 10708"]
# A good satellite's lines with a wrong checksum on line 2.
BROKEN = ["BROKEN-SAT", SMALL[1].replace("90001", "90009"), SMALL[2].replace("90001", "90009")]
ONE_MILLIMETRE = 1e-3


@pytest.fixture
def context(ros_context):
    return ros_context


def _node(context, tle: Path, **params):
    overrides = [Parameter("tle_file", value=str(tle))] + [Parameter(k, value=v) for k, v in params.items()]
    return OrbitStateNode(context=context, parameter_overrides=overrides)


def _spin_until(context, node, condition, timeout=5.0):
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    executor.shutdown()
    assert condition()


def test_bad_satellites_are_reported_and_the_others_keep_going(context, tmp_path):
    tle = tmp_path / "mixed.tle"
    tle.write_text("\n".join(SMALL[:3] + BROKEN + DECAYING) + "\n")
    node = _node(context, tle, layout="per_satellite", use_sim_time=False)
    assert node.satellite_ids == ["sbamti_001", "minotaur_r_b"]  # the broken one is out, the rest in
    statuses, states = [], {}
    node.create_subscription(NodeStatus, "/orbit_state/status", statuses.append,
                             QoSProfile(depth=50, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    for sid in node.satellite_ids:
        node.create_subscription(OrbitState, f"/{sid}/orbit/state", lambda m, sid=sid: states.setdefault(sid, m), 10)

    decaying = load_element_sets(tle).element_sets[-1]
    epoch_ns = decaying.epoch_ns + 60 * 60 * 10**9          # an hour later: decayed
    node.publish_epochs(np.array([epoch_ns], dtype=np.int64))
    _spin_until(context, node, lambda: len(states) == 2 and any(s.rejected_total >= 2 for s in statuses))

    last = statuses[-1]
    counters = dict(zip(last.counter_names, last.counter_values))
    assert counters == {"tle_file:malformed_element_set": 1, "minotaur_r_b:sgp4_error_6": 1}
    assert last.level == NodeStatus.LEVEL_WARN
    assert "decayed" in last.message and "28872" in last.message
    failed = states["minotaur_r_b"]
    assert failed.sgp4_error_code == 6 and "decayed" in failed.sgp4_error_message
    assert np.all(np.isnan(failed.position_ecef))
    good = states["sbamti_001"]
    assert good.sgp4_error_code == 0 and np.all(np.isfinite(good.position_ecef))
    node.destroy_node()


def test_cadence_is_a_fixed_grid_with_catch_up(context, tmp_path):
    tle = tmp_path / "one.tle"
    tle.write_text("\n".join(SMALL[:3]) + "\n")
    node = _node(context, tle, publish_rate_hz=2.0, use_sim_time=False)
    half = 500_000_000
    t0 = 1_830_297_600 * 10**9
    assert list(node.due_epochs(t0 + 1_200_000_000)) == [t0 + 2 * half]   # first: the grid epoch <= now
    node._last_epoch_ns = t0 + 2 * half
    assert list(node.due_epochs(t0 + 2 * half + 1)) == []                 # nothing new yet
    # sim time jumped 2.3 s: every missed epoch, in order
    assert list(node.due_epochs(t0 + 3_300_000_000)) == [t0 + k * half for k in (3, 4, 5, 6)]
    node.destroy_node()


def test_array_layout_carries_the_library_states(context, tmp_path):
    tle = tmp_path / "small.tle"
    tle.write_text("\n".join(SMALL) + "\n")
    node = _node(context, tle, layout="array", use_sim_time=False)
    epochs = np.array([1_830_297_600 * 10**9 + 10**9 * k for k in (0, 7)], dtype=np.int64)
    states = node.publish_epochs(epochs)
    msg = node.array_message(states, 1)
    # round trip of the flat fields through real serialization
    msg = deserialize_message(serialize_message(msg), OrbitStateArray)
    n = len(msg.satellite_ids)
    expected = compute_states(Propagator(load_element_sets(tle).element_sets), epochs[1:])
    assert n == 4 and msg.header.stamp.sec == 1_830_297_607
    assert np.max(np.abs(from_field(msg.position_ecef, np.float64, (n, 3)) - expected.position_ecef_m[:, 0])) \
        < ONE_MILLIMETRE
    quaternions = from_field(msg.attitude_lvlh_to_ecef, np.float64, (n, 4))
    assert np.allclose(np.linalg.norm(quaternions, axis=1), 1.0, atol=1e-12)
    assert list(from_field(msg.sgp4_error_codes, np.int32)) == [0, 0, 0, 0]
    node.destroy_node()


@pytest.mark.parametrize("params, words", [
    ({}, ["tle_file", "required"]),
    ({"layout": "grid"}, ["layout", "'grid'"]),
    ({"satellites": ["nope"]}, ["nope"]),
])
def test_configuration_errors_name_the_parameter(context, tmp_path, params, words):
    tle = tmp_path / "small.tle"
    tle.write_text("\n".join(SMALL) + "\n")
    overrides = dict(params)
    if "layout" in params or "satellites" in params:
        overrides["tle_file"] = str(tle)
    with pytest.raises(ConfigurationError) as info:
        OrbitStateNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
    for word in words:
        assert word in str(info.value)
