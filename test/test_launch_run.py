"""The launcher with real processes: respawn, required processes, shutdown, output, containers.

Each test runs ``python -m sbamti.launch`` in its own session with a private ROS_DOMAIN_ID and the
project's DDS environment, reads its merged output, and kills the session at teardown whatever
happened. Test processes are small ``python3 -c`` programs except where a real node is the point.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from sbamti.ros.env import ros_environment

FILES = Path(__file__).parent / "launch_files"
DOMAIN_ID = str(150 + os.getpid() % 50)
STARTED = re.compile(r"^\[launch\] process started: name=(\S+) pid=(\d+)$")
EXITED = re.compile(r"^\[launch\] process exited: name=(\S+) pid=(\d+) returncode=(-?\d+)$")

pytestmark = pytest.mark.timeout(60)


class Launcher:
    """``python -m sbamti.launch FILE ARGS`` with its output collected line by line."""

    def __init__(self, path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "sbamti.launch", str(path), *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env=ros_environment(ROS_DOMAIN_ID=DOMAIN_ID, **(env or {})))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 15.0) -> list[re.Match]:
        """The first ``count`` lines matching ``pattern``, waiting for them."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in map(regex.search, self.lines) if m]
                if len(found) >= count:
                    return found[:count]
                if time.monotonic() > deadline or not self.reader.is_alive():
                    raise AssertionError(f"{pattern!r} x{count} not seen; output:\n" + "\n".join(self.lines))
                self.cond.wait(0.1)

    def wait(self, timeout: float = 15.0) -> int:
        code = self.popen.wait(timeout)
        self.reader.join(5)
        return code

    def started(self) -> list[tuple[str, int]]:
        return [(m[1], int(m[2])) for m in map(STARTED.match, self.lines) if m]

    def exits(self) -> list[tuple[str, int, int]]:
        return [(m[1], int(m[2]), int(m[3])) for m in map(EXITED.match, self.lines) if m]

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()


@pytest.fixture
def launch():
    started: list[Launcher] = []

    def start(path: Path, *args: str, env: dict[str, str] | None = None) -> Launcher:
        launcher = Launcher(path, *args, env=env)
        started.append(launcher)
        return launcher

    yield start
    for launcher in started:
        launcher.kill()


def write(tmp_path: Path, *entities: dict) -> Path:
    """A launch file holding ``entities`` (dumped by PyYAML, so programs need no YAML quoting)."""
    path = tmp_path / "run.launch.yaml"
    path.write_text(yaml.safe_dump({"launch": list(entities)}, sort_keys=False))
    return path


def python(program: str) -> str:
    """An executable ``cmd`` running ``program`` with the venv's python3."""
    return f"python3 -c {shlex.quote(program)}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def start_ticks(pid: int) -> int:
    """When the kernel started ``pid``, in clock ticks since boot (/proc/<pid>/stat field 22)."""
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19])


SLEEPER = python("import time; print('up', flush=True); time.sleep(60)")


def test_respawn_after_sigkill_up_to_max_retries(launch, tmp_path):
    path = write(tmp_path, {"executable": {"cmd": SLEEPER, "name": "worker", "respawn": True, "respawn_delay": 0.3,
                                           "respawn_max_retries": 1}})
    launcher = launch(path)
    (first,) = launcher.wait_for(r"^\[launch\] process started: name=worker pid=(\d+)$")
    launcher.wait_for(r"^\[worker\] up$")
    os.kill(int(first[1]), signal.SIGKILL)
    killed_at = time.monotonic()
    second = launcher.wait_for(r"^\[launch\] process started: name=worker pid=(\d+)$", count=2)[1]
    assert time.monotonic() - killed_at >= 0.3            # respawn_delay was honoured
    assert second[1] != first[1]
    launcher.wait_for(r"^\[worker\] up$", count=2)
    os.kill(int(second[1]), signal.SIGKILL)
    # max_retries = 1: no third start; the launch ends by itself when nothing is left.
    assert launcher.wait() == 0
    assert launcher.exits() == [("worker", int(first[1]), -9), ("worker", int(second[1]), -9)]
    assert "respawning: name=worker in 0.3 s (restart 1/1)" in launcher.output()
    assert launcher.lines[-1] == "[launch] shutdown complete: returncode=0"


@pytest.mark.parametrize("program, expected_code", [
    ("import sys, time; time.sleep(0.3); sys.exit(3)", 3),
    ("import os, signal, time; time.sleep(0.3); os.kill(os.getpid(), signal.SIGKILL)", 1),
    ("import time; time.sleep(0.3)", 0),
])
def test_required_process_exit_ends_the_launch(launch, tmp_path, program, expected_code):
    path = write(tmp_path, {"executable": {"cmd": SLEEPER, "name": "bystander"}},
                 {"executable": {"cmd": python(program), "name": "required", "on_exit": "shutdown"}})
    launcher = launch(path)
    assert launcher.wait() == expected_code
    assert "sending SIGTERM" not in launcher.output()    # the bystander went down on SIGINT alone
    exits = {name: code for name, _, code in launcher.exits()}
    assert exits["required"] == {3: 3, 1: -9, 0: 0}[expected_code]
    assert exits["bystander"] == -signal.SIGINT      # python3 dies of the forwarded SIGINT
    assert "shutting down: required process required exited" in launcher.output()
    assert launcher.lines[-1] == f"[launch] shutdown complete: returncode={expected_code}"


def test_sigint_shuts_everything_down_within_5_s(launch, tmp_path):
    ignore_int = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"
    ignore_both = ("import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)];"
                   " print(1, flush=True); time.sleep(60)")
    path = write(tmp_path,
                 {"node": {"pkg": "sbamti", "exec": "sim_clock", "name": "clock", "param": [{"name": "rate", "value": 10.0}]}},
                 {"executable": {"cmd": python(ignore_int), "name": "stubborn", "sigterm_timeout": 0.5}},
                 {"executable": {"cmd": python(ignore_both), "name": "mule", "sigterm_timeout": 0.5, "sigkill_timeout": 0.5}})
    launcher = launch(path)
    launcher.wait_for(r"^\[stubborn\] 1$")
    launcher.wait_for(r"^\[mule\] 1$")
    launcher.wait_for(r"^\[clock\] .*sim time from")
    pids = [pid for _, pid in launcher.started()]
    assert len(pids) == 3
    start = time.monotonic()
    launcher.popen.send_signal(signal.SIGINT)
    assert launcher.wait() == 0
    assert time.monotonic() - start < 5.0
    assert sorted((name, code) for name, _, code in launcher.exits()) == [
        ("clock", 0), ("mule", -signal.SIGKILL), ("stubborn", -signal.SIGTERM)]
    assert not [pid for pid in pids if alive(pid)]
    assert group_members(launcher.popen.pid) == []


def test_second_signal_escalates_immediately(launch, tmp_path):
    ignore_int = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"
    path = write(tmp_path, {"executable": {"cmd": python(ignore_int), "name": "stubborn", "sigterm_timeout": 20}})
    launcher = launch(path)
    launcher.wait_for(r"^\[stubborn\] 1$")
    launcher.popen.send_signal(signal.SIGTERM)      # first: SIGINT to the children, 20 s grace
    launcher.wait_for(r"^\[launch\] shutting down: received SIGTERM$")
    time.sleep(0.3)
    assert launcher.popen.poll() is None            # the stubborn child is still within its grace period
    start = time.monotonic()
    launcher.popen.send_signal(signal.SIGINT)       # second: SIGTERM now
    assert launcher.wait() == 0
    assert time.monotonic() - start < 2.0
    assert [(name, code) for name, _, code in launcher.exits()] == [("stubborn", -signal.SIGTERM)]


def test_timer_delays_a_start_and_shutdown_action_ends_the_launch(launch, tmp_path):
    path = write(tmp_path, {"executable": {"cmd": SLEEPER, "name": "first"}},
                 {"timer": {"period": 0.6, "children": [{"executable": {"cmd": SLEEPER, "name": "second"}}]}},
                 {"timer": {"period": 2.0, "children": [{"shutdown": {"reason": "scenario over"}}]}})
    start = time.monotonic()
    launcher = launch(path)
    (first,), (second,) = (launcher.wait_for(rf"^\[launch\] process started: name={name} pid=(\d+)")
                           for name in ("first", "second"))
    # Kernel start times (clock ticks since boot) of the two children: 0.6 s apart.
    delay = (start_ticks(int(second[1])) - start_ticks(int(first[1]))) / os.sysconf("SC_CLK_TCK")
    assert 0.55 <= delay < 1.0
    assert launcher.wait() == 0
    assert 2.0 <= time.monotonic() - start < 5.5
    assert "[launch] shutting down: shutdown action: scenario over" in launcher.lines
    assert sorted(name for name, _, _ in launcher.exits()) == ["first", "second"]


def test_no_orphans_when_the_launcher_is_sigkilled(launch, tmp_path):
    path = write(tmp_path, {"executable": {"cmd": SLEEPER, "name": "orphan_candidate"}})
    launcher = launch(path)
    launcher.wait_for(r"^\[orphan_candidate\] up$")
    (_, pid), = launcher.started()
    launcher.popen.send_signal(signal.SIGKILL)   # the launcher alone, not its group
    launcher.popen.wait()
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_output_is_prefixed_per_process(launch, tmp_path):
    program = "import sys; print('out', flush=True); print('err', file=sys.stderr, flush=True); sys.stdout.write('partial')"
    log_dir = tmp_path / "logs"
    path = write(tmp_path, {"executable": {"cmd": python(program), "name": "echo"}},
                 {"executable": {"cmd": python(program), "name": "echo"}},
                 {"executable": {"cmd": python("print('to the file only')"), "name": "quiet", "output": "log"}},
                 {"log": {"message": "hello from the launch file"}})
    launcher = launch(path, env={"SBAMTI_LOG_DIR": str(log_dir)})
    assert launcher.wait() == 0
    lines = launcher.lines
    for name in ("echo-1", "echo-2"):
        assert {f"[{name}] out", f"[{name}] err", f"[{name}] partial"} <= set(lines)
        # A process's output comes between its start and its exit report.
        started = next(i for i, line in enumerate(lines) if line.startswith(f"[launch] process started: name={name} "))
        exited = next(i for i, line in enumerate(lines) if line.startswith(f"[launch] process exited: name={name} "))
        assert started < lines.index(f"[{name}] out") < exited
    assert not any("to the file only" in line for line in lines)
    assert (log_dir / "quiet.log").read_text() == "to the file only\n"
    assert "[launch] log: hello from the launch file" in lines
    assert sorted(name for name, _, _ in launcher.exits()) == ["echo-1", "echo-2", "quiet"]


def test_children_get_the_project_environment(launch, tmp_path):
    keys = ["ROS_AUTOMATIC_DISCOVERY_RANGE", "FASTDDS_DEFAULT_PROFILES_FILE", "ROS_DOMAIN_ID", "SBAMTI_SET", "SBAMTI_GONE"]
    program = f"import os, sys; print(sys.executable); print(*[os.environ.get(k, '-') for k in {keys!r}])"
    path = write(tmp_path, {"set_env": {"name": "SBAMTI_SET", "value": "yes"}},
                 {"unset_env": {"name": "SBAMTI_GONE"}},
                 {"unset_env": {"name": "ROS_AUTOMATIC_DISCOVERY_RANGE"}},   # the network rule still applies
                 {"executable": {"cmd": python(program), "name": "env"}})
    launcher = launch(path, env={"SBAMTI_GONE": "still here"})
    assert launcher.wait() == 0
    executable, values = [line.removeprefix("[env] ") for line in launcher.lines if line.startswith("[env] ")]
    assert Path(executable).parent == Path(sys.prefix) / "bin"      # the venv's bin comes first on PATH
    assert values.split() == ["LOCALHOST", str(Path(__file__).parents[1] / "sbamti" / "ros" / "fastdds_profile.xml"),
                              DOMAIN_ID, "yes", "-"]


def test_bad_file_starts_nothing_and_exits_2(launch):
    launcher = launch(FILES / "bad" / "unknown_attribute.launch.yaml")
    assert launcher.wait() == 2
    assert "unknown_attribute.launch.yaml: launch[1].node 'talker' (line 3): unknown attribute 'exe'" in launcher.output()
    assert launcher.started() == []


GRAPH_PROBE = """
import sys, time
from sbamti.ros.env import apply_ros_environment
apply_ros_environment()
import rclpy
rclpy.init()
node = rclpy.create_node("launch_test_probe")
want = set(sys.argv[1:])
deadline = time.monotonic() + 15
names = set()
while time.monotonic() < deadline and not want <= names:
    rclpy.spin_once(node, timeout_sec=0.2)
    names = {ns.rstrip("/") + "/" + n for n, ns in node.get_node_names_and_namespaces()}
print(" ".join(sorted(names)))
node.destroy_node()
rclpy.shutdown()
"""


def test_parameter_precedence_follows_file_order(launch, tmp_path):
    """A node-keyed parameter file and inline values override each other in the order written."""
    config = tmp_path / "clocks.yaml"
    config.write_text(yaml.safe_dump({name: {"ros__parameters": {"rate": 20.0}} for name in ("early", "late")}))
    inline = {"name": "rate", "value": 3.0}
    clock = {"pkg": "sbamti", "exec": "sim_clock"}
    path = write(tmp_path, {"node": {**clock, "name": "early", "param": [{"from": str(config)}, inline]}},
                 {"node": {**clock, "name": "late", "param": [inline, {"from": str(config)}]}})
    launcher = launch(path)
    rates = launcher.wait_for(r"^\[(early|late)\] .*sim time from \S+ at rate (\S+)$", count=2)
    assert sorted((m[1], m[2]) for m in rates) == [("early", "3.0"), ("late", "20.0")]
    launcher.popen.send_signal(signal.SIGINT)
    assert launcher.wait() == 0


def test_container_hosts_three_sim_clocks(launch):
    launcher = launch(FILES / "clock_container.launch.yaml", "rate:=4")
    loaded = launcher.wait_for(r"^\[clocks\] .*loaded composable node (\S+) \(plugin (\S+)\)$", count=3)
    assert [(m[1], m[2]) for m in loaded] == [("/sat1/clock", "sbamti::SimClock"), ("/sat2/clock", "sbamti::SimClock"),
                                             ("/sat3/clock", "sbamti_nodes.sim_clock:SimClockNode")]
    # Each instance got its own parameter files: rate 4 for two, $(eval 4 * 2) for the third.
    rates = launcher.wait_for(r"^\[clocks\] \[INFO\] \[[\d.]+\] \[(sat\d)\.clock\]: sim time from \S+ at rate (\S+)$",
                              count=3)
    assert sorted((m[1], m[2]) for m in rates) == [("sat1", "4.0"), ("sat2", "4.0"), ("sat3", "8.0")]
    assert [name for name, _ in launcher.started()] == ["clocks"]          # one process for three nodes
    want = ["/sat1/clock", "/sat2/clock", "/sat3/clock", "/sim/clocks"]
    probe = subprocess.run([sys.executable, "-c", GRAPH_PROBE, *want], capture_output=True, text=True, timeout=30,
                           env=ros_environment(ROS_DOMAIN_ID=DOMAIN_ID))
    assert set(want) <= set(probe.stdout.split()), probe.stdout + probe.stderr
    launcher.popen.send_signal(signal.SIGINT)
    assert launcher.wait() == 0
    assert [(name, code) for name, _, code in launcher.exits()] == [("clocks", 0)]


def test_container_reports_a_node_that_fails_to_load(launch, tmp_path):
    clock = {"pkg": "sbamti", "plugin": "sbamti::SimClock"}
    path = write(tmp_path, {"node_container": {"name": "box", "on_exit": "shutdown", "composable_node": [
        {**clock, "name": "good", "namespace": "a"},
        {**clock, "name": "broken", "namespace": "b", "param": [{"name": "start_epoch", "value": "not a date"}]}]}})
    launcher = launch(path)
    assert launcher.wait() == 2        # the container's configuration-error code, passed on
    assert re.search(r"^\[box\] .*failed to load composable node /b/broken \(plugin sbamti::SimClock\): "
                     r"configuration error: .*start_epoch", launcher.output(), re.M), launcher.output()
    assert [(name, code) for name, _, code in launcher.exits()] == [("box", 2)]
