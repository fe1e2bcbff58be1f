"""`sbamti demo` runs the default graph to its end and summarises it."""

import re
import subprocess
import sys

import pytest

from sbamti.ros.env import ros_environment


@pytest.mark.timeout(180)
def test_demo_runs_to_completion_and_reports():
    result = subprocess.run([sys.executable, "-m", "sbamti.demo", "--rate", "10", "--duration", "5"],
                            capture_output=True, text=True, timeout=170, env=ros_environment())
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"result\s+: OK", out)
    assert re.search(r"graph exit code\s+: 0", out)
    # sim time is held at the epoch until every node and the observer listen, so the whole run is seen
    span = re.search(r"sim time\s+: 2028-01-01T00:00:00Z \.\. 2028-01-01T00:00:05Z \(([\d.]+) s\)", out)
    assert span and float(span.group(1)) == pytest.approx(5.0, abs=1e-9)
    # 1 Hz orbit states from the first sim second to the last: 0, 1, ..., 5 s
    for sat in ("sbamti_001", "sbamti_002", "sbamti_003", "sbamti_004"):
        line = re.search(rf"{sat}: (\d+) states, (\d+) SGP4 errors.*altitude ([\d.]+) km; (\d+) passes in 24 h", out)
        assert line, out
        assert int(line.group(1)) == 6 and int(line.group(2)) == 0
        assert 780.0 < float(line.group(3)) < 830.0
        assert 20 <= int(line.group(4)) <= 50
    # radar dwells at 10 Hz over the areas in view: sbamti_001 and sbamti_002 see theirs from the start
    for sat in ("sbamti_001", "sbamti_002"):
        assert re.search(rf"{sat}: 50 dwells from 2028-01-01T00:00:00Z to 2028-01-01T00:00:04.9Z", out), out
    for sat in ("sbamti_003", "sbamti_004"):
        assert f"{sat}: no dwells (no area of interest in view)" in out
    assert re.search(r"truth\s+: 6 /truth/targets messages, 26 targets", out)
    # every dwell reaches its satellite's detector
    for sat in ("sbamti_001", "sbamti_002"):
        assert re.search(rf"  {sat}: 50 dwells processed", out), out
    # the downlink delivers what it had time to, never twice, and refuses nothing (no forgeries here)
    for sat in ("sbamti_001", "sbamti_002"):
        line = re.search(rf"  {sat}: (\d+) dwells delivered to /ground/detections \(50 seen onboard\), 0 duplicates", out)
        assert line and int(line.group(1)) > 0, out
    assert re.search(r"ground: \d+ packets accepted, \d+ duplicates dropped, 0 rejected", out), out
    assert re.search(r"tracks\s+:\n  [1-9]\d* pictures", out), out     # ground_tracker publishes pictures
    assert re.search(r"node status\s+: 19/19 nodes reporting", out)
