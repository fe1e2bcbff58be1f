"""The launcher as a child process group: start, read its output, signal it, reap everything.

The launcher reports process life-cycle events on lines of the form
``[launch] process started: name=<name> pid=<pid>`` and
``[launch] process exited: name=<name> pid=<pid> returncode=<rc>``; ``GraphProcess`` parses them so
a test can assert on every node's exit code, including respawned instances.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sbamti.ros.env import ros_environment

_STARTED = re.compile(r"^\[launch\] process started: name=(?P<name>\S+) pid=(?P<pid>\d+)")
_EXITED = re.compile(r"^\[launch\] process exited: name=(?P<name>\S+) pid=(?P<pid>\d+) returncode=(?P<rc>-?\d+)")


@dataclass(frozen=True)
class ProcessExit:
    """One exit of one launched process (a respawned process exits several times)."""

    name: str
    pid: int
    returncode: int


def process_group_members(pgid: int) -> list[int]:
    """PIDs of live (non-zombie) processes whose process group is ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


class GraphProcess:
    """``sbamti launch FILE name:=value ...`` running in its own session (process group)."""

    def __init__(self, launch_file: str | os.PathLike, launch_args: Mapping[str, object] | None = None, *,
                 domain_id: int, extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
        self.launch_file = Path(launch_file)
        argv = [sys.executable, "-m", "sbamti.launch", str(self.launch_file), *extra_args]
        argv += [f"{key}:={_arg_text(value)}" for key, value in (launch_args or {}).items()]
        child_env = ros_environment(env, ROS_DOMAIN_ID=str(domain_id))
        self.domain_id = domain_id
        self.lines: list[str] = []
        self.started: dict[str, list[int]] = {}
        self.exits: list[ProcessExit] = []
        self._cond = threading.Condition()
        self._popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=child_env, start_new_session=True,
                                       text=True, bufsize=1)
        self.pgid = self._popen.pid
        self._reader = threading.Thread(target=self._read, name=f"launch-output-{self.pgid}", daemon=True)
        self._reader.start()

    # -- output -----------------------------------------------------------------------------
    def _read(self) -> None:
        assert self._popen.stdout is not None
        for raw in self._popen.stdout:
            line = raw.rstrip("\n")
            with self._cond:
                self.lines.append(line)
                if match := _STARTED.match(line):
                    self.started.setdefault(match["name"], []).append(int(match["pid"]))
                elif match := _EXITED.match(line):
                    self.exits.append(ProcessExit(match["name"], int(match["pid"]), int(match["rc"])))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_for_output(self, pattern: str | re.Pattern, *, process: str | None = None, timeout: float = 10.0
                        ) -> re.Match:
        """First output line matching ``pattern`` (regex), optionally only from ``[process]`` lines."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        prefix = f"[{process}] " if process else ""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if line.startswith(prefix) and (match := regex.search(line[len(prefix):])):
                        return match
                seen = len(self.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no output line{' from ' + process if process else ''} matched "
                                       f"{regex.pattern!r} within {timeout} s; last lines:\n" + "\n".join(self.lines[-20:]))
                self._cond.wait(min(remaining, 0.2))

    def wait_for_exit_of(self, name: str, *, count: int = 1, timeout: float = 10.0) -> list[ProcessExit]:
        """Wait until process ``name`` has exited ``count`` times; return its exits so far."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                exits = [e for e in self.exits if e.name == name]
                if len(exits) >= count:
                    return exits
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"process {name!r} exited {len(exits)} time(s), expected {count}, "
                                       f"within {timeout} s")
                self._cond.wait(min(remaining, 0.2))

    def wait_for_start_of(self, name: str, *, count: int = 1, timeout: float = 15.0) -> list[int]:
        """Wait until process ``name`` has started ``count`` times; return its pids."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.started.get(name, [])) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"process {name!r} started {len(self.started.get(name, []))} time(s), "
                                       f"expected {count}, within {timeout} s; started: {sorted(self.started)}")
                self._cond.wait(min(remaining, 0.2))
            return list(self.started[name])

    @property
    def exit_codes(self) -> dict[str, int]:
        """Latest exit code of every launched process that has exited."""
        with self._cond:
            return {e.name: e.returncode for e in self.exits}

    # -- life cycle -------------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def send_signal(self, sig: int = signal.SIGINT) -> None:
        """Signal the launcher alone (it forwards shutdown to its children)."""
        if self._popen.poll() is None:
            self._popen.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int:
        code = self._popen.wait(timeout)
        self._reader.join(timeout=5)
        return code

    def shutdown(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """Signal the launcher, wait for it; SIGKILL the whole group if it does not end in time."""
        self.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            return self.wait(5)

    def kill_group(self) -> None:
        """SIGKILL every process left in the launcher's group (teardown of last resort)."""
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def leftover_processes(self) -> list[int]:
        """Processes still alive in the launcher's group (should be empty after shutdown)."""
        return process_group_members(self.pgid)


def _arg_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
