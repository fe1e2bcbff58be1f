"""Pieces of the graph-test harness that do not need a graph."""

import os
import subprocess
import sys
import time

from sbamti.testing.domain import allocate_domain_id
from sbamti.testing.process import process_group_members


def test_domain_ids_are_exclusive_and_released():
    with allocate_domain_id(range(200, 202)) as first:
        with allocate_domain_id(range(200, 202)) as second:
            assert {first, second} == {200, 201}
            try:
                with allocate_domain_id(range(200, 202)):
                    raise AssertionError("a third id was handed out from a range of two")
            except RuntimeError as exc:
                assert "no free ROS domain id in 200..201" in str(exc)
    with allocate_domain_id(range(200, 201)) as again:
        assert again == 200


def test_domain_id_is_held_against_other_processes():
    with allocate_domain_id(range(203, 204)) as held:
        code = ("from sbamti.testing.domain import allocate_domain_id\n"
                "import sys\n"
                "try:\n"
                "    with allocate_domain_id(range(203, 204)): sys.exit(0)\n"
                "except RuntimeError: sys.exit(3)\n")
        assert held == 203
        assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 3


def test_process_group_members_sees_children_and_not_others():
    proc = subprocess.Popen(["/bin/sh", "-c", "sleep 30 & sleep 30 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(process_group_members(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        members = process_group_members(proc.pid)
        assert proc.pid in members and len(members) == 3
        assert os.getpid() not in members
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    time.sleep(0.1)
    assert process_group_members(proc.pid) == []
