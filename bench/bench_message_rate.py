"""Message rate, loss and one-way latency between two processes (publisher -> subscriber).

Each scenario starts a subscriber and a publisher process (bench/rate_worker.py) in a private
ROS_DOMAIN_ID with the project's environment (localhost discovery, sbamti Fast DDS profile):
- small messages (std_msgs/UInt64), reliable KEEP_ALL, 20,000 as fast as possible and paced at
  10 kHz: receive rate and loss with the SingleThreadedExecutor and the EventsExecutor;
- small messages at 1 kHz: one-way latency with both executors;
- a 2 MiB RadarDwell cube at 30 Hz, reliable and best effort, with the project's profile (32 MiB
  shared-memory segment) and with an empty profile (Fast DDS default transports).
The eth0 TX packet count is read before and after (network rule: traffic stays on loopback).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from benchlib import format_table, private_domain_id, tx_packets
from sbamti.ros.env import ros_environment

WORKER = Path(__file__).with_name("rate_worker.py")
EMPTY_PROFILE = '<dds xmlns="http://www.eprosima.com"><profiles/></dds>\n'


@dataclass(frozen=True)
class Scenario:
    """One publisher/subscriber run; ``depth`` 0 is KEEP_ALL, ``rate`` 0 is as fast as possible."""

    name: str
    kind: str = "small"
    reliability: str = "reliable"
    depth: int = 0
    count: int = 20000
    rate: float = 0.0
    executor: str = "single"
    empty_profile: bool = False

    def worker_args(self) -> list[str]:
        return ["--kind", self.kind, "--reliability", self.reliability, "--depth", str(self.depth),
                "--count", str(self.count), "--rate", str(self.rate), "--executor", self.executor]


def scenarios(small_count: int, cube_count: int, cube_rate: float) -> list[Scenario]:
    """The benchmark's scenarios, in run order."""
    blast = Scenario("small, as fast as possible", count=small_count)
    paced = Scenario("small, paced 10 kHz", count=small_count, rate=10_000)
    latency = Scenario("small, 1 kHz", depth=100, count=2000, rate=1000)
    cube = Scenario("2 MiB cube", kind="cube", depth=10, count=cube_count, rate=cube_rate)
    runs = [replace(s, executor=e) for s in (blast, paced, latency) for e in ("single", "events")]
    runs += [replace(cube, reliability=r, empty_profile=empty)
             for empty in (False, True) for r in ("reliable", "best_effort")]
    return runs


def describe(s: Scenario) -> str:
    qos = f"{s.reliability} {'KEEP_ALL' if s.depth == 0 else f'KEEP_LAST {s.depth}'}"
    profile = "empty profile" if s.empty_profile else "sbamti profile"
    extra = profile if s.kind == "cube" else f"{s.executor} executor"
    return f"{s.name}, {qos}, {extra}"


def run_scenario(s: Scenario, domain_id: str, empty_profile_path: Path) -> dict:
    """Run one scenario; the publisher's and the subscriber's JSON results merged."""
    overrides = {"ROS_DOMAIN_ID": domain_id}
    if s.empty_profile:
        overrides["FASTDDS_DEFAULT_PROFILES_FILE"] = str(empty_profile_path)
    env = ros_environment(**overrides)
    command = [sys.executable, str(WORKER)]
    sub = subprocess.Popen(command + ["sub"] + s.worker_args(), env=env, text=True,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if sub.stdout.readline().strip() != "READY":
            raise RuntimeError(f"subscriber did not start: {sub.communicate(timeout=10)[1][-2000:]}")
        pub = subprocess.run(command + ["pub"] + s.worker_args(), env=env, text=True,
                             capture_output=True, timeout=120)
        sub_out, sub_err = sub.communicate("publisher exited\n", timeout=120)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    return {**_last_json(pub.stdout, pub.stderr, "publisher"), **_last_json(sub_out, sub_err, "subscriber")}


def _last_json(stdout: str, stderr: str, who: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{who} printed no result; stderr:\n{stderr[-2000:]}")
    result = json.loads(lines[-1])
    if "error" in result:
        raise RuntimeError(f"{who}: {result['error']}")
    return result


def run(small_count: int = 20000, cube_count: int = 300, cube_rate: float = 30.0) -> dict:
    """All scenarios; returns {"rows": [...], "tx_before": n, "tx_after": n}."""
    tx_before = tx_packets()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        empty_profile = Path(tmp) / "empty_profile.xml"
        empty_profile.write_text(EMPTY_PROFILE)
        for i, s in enumerate(scenarios(small_count, cube_count, cube_rate)):
            result = run_scenario(s, private_domain_id(i), empty_profile)
            rows.append({"scenario": describe(s), "config": s, **result})
            print(f"  done: {describe(s)}", file=sys.stderr, flush=True)
    return {"rows": rows, "tx_before": tx_before, "tx_after": tx_packets()}


def find(results: dict, name: str, **fields: object) -> dict:
    """The result row of the scenario called ``name`` whose config matches ``fields``."""
    for row in results["rows"]:
        config = row["config"]
        if config.name == name and all(getattr(config, k) == v for k, v in fields.items()):
            return row
    raise KeyError(name)


def key_ratios(results: dict) -> dict[str, float]:
    """Events/single receive-rate ratios and empty-profile/sbamti-profile cube latency ratio."""
    ratios = {}
    for name in ("small, as fast as possible", "small, paced 10 kHz"):
        events = find(results, name, executor="events")["receive_rate"]
        single = find(results, name, executor="single")["receive_rate"]
        ratios[f"{name}: receive rate events / single"] = events / single
    empty = find(results, "2 MiB cube", reliability="reliable", empty_profile=True)["latency_us"]["median"]
    project = find(results, "2 MiB cube", reliability="reliable", empty_profile=False)["latency_us"]["median"]
    ratios["2 MiB cube reliable: median latency empty / sbamti profile"] = empty / project
    return ratios


def network_check(results: dict) -> str:
    before, after = results["tx_before"], results["tx_after"]
    if before is None:
        return "eth0: not present"
    verdict = "unchanged" if before == after else f"CHANGED by {after - before} (other processes on the host count too)"
    return f"eth0 TX packets before {before}, after {after}: {verdict}"


def report(results: dict) -> str:
    """Table of all scenarios (sent = publish() calls that returned; failed = calls that raised),
    the publish errors, the key ratios and the network check."""
    rows = []
    for row in results["rows"]:
        lat = row["latency_us"]
        rows.append((row["scenario"], row["sent"], row["failed"], row["received"], row["sent"] - row["received"],
                     row["publish_rate"], row["receive_rate"], lat["median"], lat["p99"],
                     row["publish_call_us"]["median"]))
    headers = ["scenario", "sent", "failed", "recv", "lost", "pub msg/s", "recv msg/s", "lat med us", "lat p99 us",
               "publish() med us"]
    errors = [f"{row['scenario']}: {row['failed']} publish() calls raised, first: {row['first_error']}"
              for row in results["rows"] if row["failed"]]
    ratios = [f"{name}: {value:.3g}" for name, value in key_ratios(results).items()]
    return "\n".join([format_table(headers, rows), "", *errors, *ratios, network_check(results)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-count", type=int, default=20000, help="messages per rate scenario")
    parser.add_argument("--cube-count", type=int, default=300, help="2 MiB cubes per cube scenario")
    parser.add_argument("--cube-rate", type=float, default=30.0, help="Hz of the cube scenarios")
    args = parser.parse_args()
    print(report(run(args.small_count, args.cube_count, args.cube_rate)))


if __name__ == "__main__":
    main()
