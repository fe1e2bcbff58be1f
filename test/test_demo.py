"""`sbamti demo` runs the default graph to its end and summarises it."""

import re
import subprocess
import sys

import pytest

from sbamti.ros.env import ros_environment


@pytest.mark.timeout(120)
def test_demo_runs_to_completion_and_reports():
    result = subprocess.run([sys.executable, "-m", "sbamti.demo", "--rate", "10", "--duration", "5"],
                            capture_output=True, text=True, timeout=110, env=ros_environment())
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "result                 : OK" in out
    span = float(re.search(r"sim time\s+: 2028-01-01T00:00:00Z \.\. \S+ \(([\d.]+) s\)", out).group(1))
    # sim time is held at the epoch until the observer subscribes, so the summary covers the whole run
    assert span == pytest.approx(5.0, abs=1e-9)
    assert re.search(r"\.\. 2028-01-01T00:00:05Z", out)
    assert re.search(r"graph exit code\s+: 0", out)
