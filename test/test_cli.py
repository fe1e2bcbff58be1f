"""The ``sbamti`` command-line tool.

Pure parts (message text, field paths, rate statistics, QoS choice, discovery settling, argument
handling) are called directly with generated messages and known values; the graph commands run as
real processes against a real ``sim_clock`` in a private ROS domain.
"""

from __future__ import annotations

import array
import math
import re
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import pytest
import yaml
from builtin_interfaces.msg import Time
from rosgraph_msgs.msg import Clock

from sbamti.cli import fields
from sbamti.cli.fields import (FieldPathError, MessageTypeError, check_field_path, format_message, format_scalar,
                               import_message_class, message_to_data, resolve_field)
from sbamti.cli.main import main
from sbamti.cli.rate import RateWindow, rate_statistics
from sbamti.ros.env import ros_environment
from sbamti.testing.domain import allocate_domain_id
from sbamti.timeutil import parse_utc_epoch_ns
from sbamti_msgs.msg import ContactWindow, ContactWindowArray, NodeStatus, RadarDwell, Track, TrackArray

VENV_BIN = Path(sys.executable).parent
SBAMTI = str(VENV_BIN / "sbamti")
SIM_CLOCK = str(VENV_BIN / "sim_clock")
START_2028_S = parse_utc_epoch_ns("2028-01-01T00:00:00Z") // 1_000_000_000  # 1830297600
CLOCK_HZ = 50.0
TEN_PERCENT = 0.10


# == message -> text ==============================================================================
def _node_status() -> NodeStatus:
    msg = NodeStatus()
    msg.header.stamp.sec = 1830297600
    msg.header.stamp.nanosec = 500_000_000
    msg.node_name = "/sat01/orbit_state"
    msg.level = NodeStatus.LEVEL_WARN
    msg.message = "rejected orbit/state:nan_position: x: nan"
    msg.heartbeat_count = 7
    msg.uptime_s = 12.5
    msg.messages_in = 3
    msg.messages_out = 2
    msg.rejected_total = 5
    msg.counter_names = ["orbit/state:nan_position", "stale"]
    msg.counter_values = [4, 1]
    return msg


def _contact_windows(count: int) -> ContactWindowArray:
    msg = ContactWindowArray()
    msg.header.stamp.sec = 10
    msg.header.frame_id = "itrs"
    msg.satellite_id = "sat01"
    msg.horizon_end.sec = 100
    msg.windows = [ContactWindow(station_name=f"station{i}", aos=Time(sec=20 + i), los=Time(sec=30 + i, nanosec=5),
                                 max_elevation_time=Time(sec=25 + i), max_elevation_rad=0.5, elevation_mask_rad=0.1)
                   for i in range(count)]
    return msg


def test_clock_formats_as_nested_mapping():
    msg = Clock(clock=Time(sec=START_2028_S, nanosec=5))
    assert format_message(msg) == "clock:\n  sec: 1830297600\n  nanosec: 5"
    assert format_message(msg, flow_style=True) == "{clock: {sec: 1830297600, nanosec: 5}}"


def test_node_status_text_nests_header_and_inlines_arrays():
    assert format_message(_node_status()) == (
        "header:\n"
        "  stamp:\n"
        "    sec: 1830297600\n"
        "    nanosec: 500000000\n"
        "  frame_id: ''\n"
        "node_name: /sat01/orbit_state\n"
        "level: 1\n"
        "message: 'rejected orbit/state:nan_position: x: nan'\n"
        "heartbeat_count: 7\n"
        "uptime_s: 12.5\n"
        "messages_in: 3\n"
        "messages_out: 2\n"
        "rejected_total: 5\n"
        "counter_names: [orbit/state:nan_position, stale]\n"
        "counter_values: [4, 1]")


def test_sequence_of_messages_is_a_block_list_at_the_key_indent():
    assert format_message(_contact_windows(2)) == (
        "header:\n"
        "  stamp:\n"
        "    sec: 10\n"
        "    nanosec: 0\n"
        "  frame_id: itrs\n"
        "satellite_id: sat01\n"
        "horizon_end:\n"
        "  sec: 100\n"
        "  nanosec: 0\n"
        "windows:\n"
        "- station_name: station0\n"
        "  aos:\n"
        "    sec: 20\n"
        "    nanosec: 0\n"
        "  los:\n"
        "    sec: 30\n"
        "    nanosec: 5\n"
        "  max_elevation_time:\n"
        "    sec: 25\n"
        "    nanosec: 0\n"
        "  max_elevation_rad: 0.5\n"
        "  elevation_mask_rad: 0.1\n"
        "- station_name: station1\n"
        "  aos:\n"
        "    sec: 21\n"
        "    nanosec: 0\n"
        "  los:\n"
        "    sec: 31\n"
        "    nanosec: 5\n"
        "  max_elevation_time:\n"
        "    sec: 26\n"
        "    nanosec: 0\n"
        "  max_elevation_rad: 0.5\n"
        "  elevation_mask_rad: 0.1")
    assert format_message(_contact_windows(0)).endswith("\nwindows: []")


def test_text_reads_back_as_yaml_with_the_same_values():
    """The 'YAML-like' text is real YAML: strings that look like numbers, booleans or contain ': '
    come back as the same strings, floats as the same floats."""
    msg = _node_status()
    msg.counter_names = ["", "1.5", "true", "a: b", "#x", "-dash", "[x]", "it's", "line\nbreak", "2028-01-01"]
    msg.counter_values = list(range(10))
    msg.uptime_s = 1e-6
    dwell = RadarDwell(satellite_id="sat01", prf_hz=1234.5, noise_power_w=1.25e-14)
    dwell.beam_direction_ecef = np.array([0.0, -0.6, 0.8])
    dwell.iq_interleaved = array.array("f", [0.5, -1.25, 3.0])
    for message in (msg, dwell, _contact_windows(3)):
        for flow_style in (False, True):
            assert yaml.safe_load(format_message(message, flow_style=flow_style)) == message_to_data(message)


@pytest.mark.parametrize("value, text", [
    (True, "true"), (-3, "-3"), (0.1, "0.1"), (1e-06, "1.0e-06"), (2.5e20, "2.5e+20"), (math.nan, ".nan"),
    (-math.inf, "-.inf"), ("", "''"), ("itrs", "itrs"), ("/sim_clock", "/sim_clock"), ("1.5", "'1.5'"),
    ("null", "'null'"), ("it's: here", "'it''s: here'"), ("tab\there", '"tab\\there"'),
])
def test_scalars(value, text):
    assert format_scalar(value) == text


def test_long_array_is_truncated_with_a_marker():
    dwell = RadarDwell()
    dwell.iq_interleaved = array.array("f", range(1000))
    text = format_message(dwell, array_limit=16)
    assert "\niq_interleaved: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, " \
           "15.0, '...']\n" in text
    assert "\nbeam_centre_ecef: [0.0, 0.0, 0.0]\n" in text  # short arrays are whole
    default = format_message(dwell)  # default limit
    assert f", {fields.DEFAULT_ARRAY_LIMIT - 1}.0, '...']" in default
    full = message_to_data(dwell, array_limit=None)["iq_interleaved"]
    assert full == [float(i) for i in range(1000)]


def test_sequence_of_messages_is_truncated_too():
    text = format_message(_contact_windows(3), array_limit=2)
    assert text.count("- station_name:") == 2
    assert text.endswith("\n  elevation_mask_rad: 0.1\n- '...'")


class _NoIterationArray(array.array):
    """A float32 field that fails if anything walks all of it element by element."""

    def __iter__(self):
        raise AssertionError("the whole array was iterated in Python")


def test_big_array_field_is_sliced_not_iterated():
    cube = _NoIterationArray("f", bytes(2 * 1024 * 1024))  # a 2 MB data cube of zeros
    dwell = RadarDwell()
    dwell._iq_interleaved = cube  # the slot behind the property: the setter would copy into a plain array
    assert dwell.iq_interleaved is cube
    data = message_to_data(dwell, array_limit=4)
    assert data["iq_interleaved"] == [0.0, 0.0, 0.0, 0.0, "..."]


# == field paths ==================================================================================
def test_field_path_resolution():
    status = _node_status()
    assert resolve_field(status, "header.stamp.sec") == 1830297600
    assert resolve_field(status, "counter_names.1") == "stale"
    assert resolve_field(status, "counter_values[-1]") == 1
    tracks = TrackArray(tracks=[Track(track_id=7, position_ecef=np.array([1.0, 2.0, 3.0]))])
    assert resolve_field(tracks, "tracks[0].track_id") == 7
    assert resolve_field(tracks, "tracks.0.position_ecef.2") == 3.0
    assert format_message(resolve_field(tracks, "tracks[0].position_ecef")) == "[1.0, 2.0, 3.0]"
    assert format_message(resolve_field(status, "header.stamp")) == "sec: 1830297600\nnanosec: 500000000"


def test_unknown_field_names_the_segment_and_lists_the_fields():
    with pytest.raises(FieldPathError, match=r"unknown field 'stamps' in field path 'header.stamps.sec': header "
                                             r"\(std_msgs/msg/Header\) has fields: stamp, frame_id"):
        resolve_field(_node_status(), "header.stamps.sec")
    with pytest.raises(FieldPathError, match=r"unknown field 'clck'.*the message \(rosgraph_msgs/msg/Clock\) has "
                                             r"fields: clock$"):
        check_field_path(Clock, "clck.sec")


def test_field_path_errors():
    tracks = TrackArray(tracks=[Track()])
    with pytest.raises(FieldPathError, match=r"index 1 out of range for tracks \(length 1\)"):
        resolve_field(tracks, "tracks.1.track_id")
    with pytest.raises(FieldPathError, match=r"header.stamp.sec is a int with no fields; cannot look up 'x'"):
        resolve_field(_node_status(), "header.stamp.sec.x")
    with pytest.raises(FieldPathError, match="malformed field path"):
        resolve_field(tracks, "tracks..track_id")


def test_field_path_checked_against_the_type_before_messages_arrive():
    assert check_field_path(Clock, "clock.sec") == ["clock", "sec"]
    assert check_field_path(TrackArray, "tracks[3].created.nanosec") == ["tracks", "3", "created", "nanosec"]
    with pytest.raises(FieldPathError, match=r"tracks is a sequence .* expected an element index, got 'track_id'"):
        check_field_path(TrackArray, "tracks.track_id")
    with pytest.raises(FieldPathError, match=r"index 3 out of range for tracks.0.position_ecef \(length 3\)"):
        check_field_path(TrackArray, "tracks.0.position_ecef.3")
    with pytest.raises(FieldPathError, match=r"clock.sec is a int32 with no fields"):
        check_field_path(Clock, "clock.sec.x")
    with pytest.raises(FieldPathError, match=r"unknown field 'trackid'.*\(sbamti_msgs/msg/Track\) has fields: "
                                             r"track_id, status, position_ecef"):
        check_field_path(TrackArray, "tracks.0.trackid")


def test_message_class_from_graph_type_name():
    assert import_message_class("rosgraph_msgs/msg/Clock") is Clock
    assert import_message_class("sbamti_msgs/RadarDwell") is RadarDwell
    assert fields.type_name(Track()) == "sbamti_msgs/msg/Track"
    with pytest.raises(MessageTypeError, match="module no_such_pkg.msg is not installed"):
        import_message_class("no_such_pkg/msg/Thing")
    with pytest.raises(MessageTypeError, match="sbamti_msgs.msg has no message Nothing"):
        import_message_class("sbamti_msgs/msg/Nothing")
    with pytest.raises(MessageTypeError, match="malformed message type"):
        import_message_class("Clock")


# == rate statistics ==============================================================================
def test_rate_of_a_regular_50_hz_stream():
    stats = rate_statistics(k / 50.0 for k in range(51))
    assert stats.rate_hz == pytest.approx(50.0, rel=1e-12)
    assert stats.min_s == pytest.approx(0.02, rel=1e-9) and stats.max_s == pytest.approx(0.02, rel=1e-9)
    assert stats.std_s < 1e-12
    assert stats.window == 51
    assert stats.format() == "average rate: 50.000\n\tmin: 0.020s max: 0.020s std dev: 0.00000s window: 51"


def test_rate_of_an_irregular_stream():
    stats = rate_statistics([10.0, 10.1, 10.3])  # periods 0.1 s and 0.2 s
    assert stats.rate_hz == pytest.approx(2 / 0.3)
    assert (stats.min_s, stats.max_s) == pytest.approx((0.1, 0.2))
    assert stats.std_s == pytest.approx(0.05)  # population standard deviation
    assert rate_statistics([1.0]) is None and rate_statistics([]) is None
    assert rate_statistics([2.0, 2.0]) is None  # a burst spans no time


def test_rate_window_slides_and_tracks_new_arrivals():
    window = RateWindow(3)
    assert not window.has_new
    for stamp in (0.0, 1.0, 1.5, 2.0):  # 0.0 falls out of the window
        window.add(stamp)
    assert window.has_new
    stats = window.report()
    assert stats.window == 3 and stats.rate_hz == pytest.approx(2.0)
    assert not window.has_new
    with pytest.raises(ValueError, match="at least 2"):
        RateWindow(1)


# == QoS and discovery helpers (rclpy imported, not initialised) ==================================
def test_subscription_qos_matches_the_publishers():
    from rclpy.qos import DurabilityPolicy as D, QoSProfile, ReliabilityPolicy as R

    from sbamti.ros.qos import subscription_qos

    latched = QoSProfile(depth=1, reliability=R.RELIABLE, durability=D.TRANSIENT_LOCAL)
    sensor = QoSProfile(depth=5, reliability=R.BEST_EFFORT, durability=D.VOLATILE)
    qos = subscription_qos([latched, latched])
    assert (qos.reliability, qos.durability, qos.depth) == (R.RELIABLE, D.TRANSIENT_LOCAL, 10)
    qos = subscription_qos([latched, sensor])
    assert (qos.reliability, qos.durability) == (R.BEST_EFFORT, D.VOLATILE)
    qos = subscription_qos([sensor], reliability=R.RELIABLE, durability=D.TRANSIENT_LOCAL, depth=3)
    assert (qos.reliability, qos.durability, qos.depth) == (R.RELIABLE, D.TRANSIENT_LOCAL, 3)
    qos = subscription_qos([])  # nobody publishes yet: reliable and volatile, like the project's data topics
    assert (qos.reliability, qos.durability) == (R.RELIABLE, D.VOLATILE)


class _FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_settle_waits_for_a_quiet_graph_after_the_first_discovery():
    from sbamti.cli.graph import settle

    clock = _FakeClock()
    arrivals = {1.2: "/a", 1.4: "/b"}  # discovery answers after 1.2 s and 1.4 s

    def snapshot():
        return sorted(name for at, name in arrivals.items() if clock.now >= at - 1e-9)

    assert settle(snapshot, clock=clock, sleep=clock.sleep) == ["/a", "/b"]
    assert clock.now == pytest.approx(1.9, abs=0.06)  # 0.5 s quiet after the last change
    clock.now = 0.0
    assert settle(lambda: [], max_s=3.0, clock=clock, sleep=clock.sleep) == []
    assert clock.now == pytest.approx(3.0, abs=0.06)  # an empty graph waits the full spin time


# == argument handling and delegation (no ROS) ====================================================
@pytest.mark.parametrize("argv", [[], ["topic"], ["node"], ["topic", "echo"], ["topic", "hz", "/x", "--window", "1"],
                                  ["topic", "echo", "/x", "--once", "--count", "2"], ["bogus"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: sbamti" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    ([], "launch"), (["node", "list"], "--all"), (["topic", "list"], "--show-types"),
    (["topic", "echo"], "--full-arrays"), (["topic", "hz"], "--count-reports"), (["topic", "info"], "--verbose"),
    (["topic", "info"], "--timeout"),
])
def test_help_for_every_subcommand(argv, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert expected in capsys.readouterr().out


@pytest.mark.parametrize("command, module", [("launch", "sbamti.launch.cli"), ("demo", "sbamti.demo")])
def test_launch_and_demo_are_handed_everything_after_their_name(command, module, monkeypatch):
    calls = []
    fake = types.ModuleType(module)
    fake.main = lambda argv: calls.append(argv) or 3
    monkeypatch.setitem(sys.modules, module, fake)
    argv = ["demo.launch.yaml", "rate:=10.0", "--wall-time", "--help"]
    assert main([command, *argv]) == 3
    assert calls == [argv]


def test_missing_delegate_is_a_clear_failure(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sbamti.demo", None)  # import raises ModuleNotFoundError
    assert main(["demo"]) == 1
    assert "'demo' is not available: sbamti.demo is not installed" in capsys.readouterr().err


def test_pure_cli_modules_do_not_import_rclpy():
    """--help and usage errors stay fast, and rclpy loads only after the DDS environment is set."""
    code = ("import sys\n"
            "import sbamti.cli.main, sbamti.cli.fields, sbamti.cli.rate\n"
            "assert 'rclpy' not in sys.modules\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# == real processes ===============================================================================
@pytest.fixture(scope="module")
def clock_graph():
    """A sim_clock at rate 1 publishing /clock at 50 Hz in a private domain; yields the environment."""
    with allocate_domain_id() as domain_id, tempfile.TemporaryFile("w+") as log:
        env = ros_environment(ROS_DOMAIN_ID=str(domain_id))
        process = subprocess.Popen(
            [SIM_CLOCK, "--ros-args", "-p", "rate:=1.0", "-p", f"publish_rate_hz:={CLOCK_HZ}",
             "-p", "use_sim_time:=false"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20.0
            while "sim time from" not in (log.seek(0) or log.read()):
                assert process.poll() is None, f"sim_clock exited with {process.returncode}: {log.read()}"
                assert time.monotonic() < deadline, "sim_clock did not start within 20 s"
                time.sleep(0.05)
            yield env
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# Listings stop once discovery has settled; the cap only matters for an empty graph. Fast DDS with the
# project profile sometimes takes ~3 s to answer a new participant on a loaded machine.
SPIN = ("--spin-time", "10")


def _sbamti(env, *args, timeout=30.0):
    return subprocess.run([SBAMTI, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.timeout(60)
def test_node_list(clock_graph):
    result = _sbamti(clock_graph, "node", "list", *SPIN)
    assert result.returncode == 0, result.stderr
    names = result.stdout.splitlines()
    assert "/sim_clock" in names
    assert names == sorted(names)
    assert not any("_sbamti_cli" in name for name in names)  # the tool's own node is hidden


@pytest.mark.timeout(60)
def test_topic_list_with_types(clock_graph):
    result = _sbamti(clock_graph, "topic", "list", "-t", *SPIN)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "/clock [rosgraph_msgs/msg/Clock]" in lines
    assert "/sim_clock/status [sbamti_msgs/msg/NodeStatus]" in lines
    assert lines == sorted(lines)
    plain = _sbamti(clock_graph, "topic", "list", *SPIN)
    assert "/clock" in plain.stdout.splitlines()


@pytest.mark.timeout(60)
def test_topic_info(clock_graph):
    result = _sbamti(clock_graph, "topic", "info", "/sim_clock/status", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == ["Type: sbamti_msgs/msg/NodeStatus", "Publisher count: 1",
                                              "Subscription count: 0"]
    assert "  publisher /sim_clock: reliable, transient_local" in result.stdout


@pytest.mark.timeout(60)
def test_echo_one_field_of_the_clock(clock_graph):
    result = _sbamti(clock_graph, "topic", "echo", "/clock", "--once", "--field", "clock.sec")
    assert result.returncode == 0, result.stderr
    value, separator = result.stdout.splitlines()
    assert separator == "---"
    # sim time started at 2028-01-01T00:00:00Z at rate 1: now a few wall seconds later
    assert START_2028_S <= int(value) <= START_2028_S + 120


@pytest.mark.timeout(60)
def test_echo_transient_local_status(clock_graph):
    result = _sbamti(clock_graph, "topic", "echo", "sim_clock/status", "--once")
    assert result.returncode == 0, result.stderr
    assert "\nnode_name: /sim_clock\n" in result.stdout
    document = yaml.safe_load(result.stdout.split("\n---\n")[0])
    assert document["heartbeat_count"] >= 1
    assert document["header"]["stamp"]["sec"] > 1_700_000_000  # the node runs on wall time


@pytest.mark.timeout(60)
def test_echo_count_in_flow_style(clock_graph):
    result = _sbamti(clock_graph, "topic", "echo", "/clock", "--count", "3", "--flow-style")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1::2] == ["---"] * 3
    stamps = [yaml.safe_load(line)["clock"] for line in lines[0::2]]
    seconds = [s["sec"] + s["nanosec"] * 1e-9 for s in stamps]
    assert seconds == sorted(seconds) and seconds[0] >= START_2028_S


@pytest.mark.timeout(60)
def test_hz_of_the_clock(clock_graph):
    result = _sbamti(clock_graph, "topic", "hz", "/clock", "--count-reports", "2")
    assert result.returncode == 0, result.stderr
    rates = [float(rate) for rate in re.findall(r"^average rate: ([0-9.]+)$", result.stdout, re.MULTILINE)]
    assert len(rates) == 2, result.stdout
    for rate in rates:
        assert rate == pytest.approx(CLOCK_HZ, rel=TEN_PERCENT)
    assert re.search(r"^\tmin: [0-9.]+s max: [0-9.]+s std dev: [0-9.]+s window: \d+$", result.stdout, re.MULTILINE)


@pytest.mark.timeout(60)
def test_echo_of_a_missing_topic_fails_naming_it(clock_graph):
    start = time.monotonic()
    result = _sbamti(clock_graph, "topic", "echo", "/nonexistent", "--timeout", "2")
    assert result.returncode == 1
    assert "topic /nonexistent did not appear in the graph within 2 s" in result.stderr
    assert result.stdout == ""
    assert time.monotonic() - start < 15.0


@pytest.mark.timeout(60)
def test_hz_of_a_missing_topic_fails(clock_graph):
    result = _sbamti(clock_graph, "topic", "hz", "/nonexistent", "--timeout", "1")
    assert result.returncode == 1
    assert "/nonexistent" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.timeout(60)
def test_echo_with_an_unknown_field_is_a_usage_error(clock_graph):
    result = _sbamti(clock_graph, "topic", "echo", "/clock", "--once", "--field", "clock.secs")
    assert result.returncode == 2
    assert "unknown field 'secs'" in result.stderr and "has fields: sec, nanosec" in result.stderr


@pytest.mark.timeout(60)
def test_ctrl_c_exits_0_quietly(clock_graph):
    process = subprocess.Popen([SBAMTI, "topic", "echo", "/clock"], env=clock_graph, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "clock:"  # messages are flowing
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert err == ""
