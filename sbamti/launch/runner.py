"""Run a ``LaunchPlan``: start processes, prefix their output, respawn, shut down, reap everything.

One loop in the calling thread owns every child (starting, polling, signalling); reader threads
only copy output lines. Children are started from that one thread on purpose: the kernel sends
``PR_SET_PDEATHSIG`` when the *thread* that forked a child ends, and the loop's thread lives until
every child is reaped. Children stay in the launcher's process group so a harness can kill the group.

Lines the launcher writes to stderr (a test harness parses them)::

    [launch] process started: name=<name> pid=<pid>
    [launch] process exited: name=<name> pid=<pid> returncode=<rc>      (rc < 0: killed by signal -rc)
    [launch] shutdown complete: returncode=<rc>                         (the last line)

plus free-form ``[launch] ...`` events (shutting down, respawning, escalation, ``log:`` messages).
"""

from __future__ import annotations

import ctypes
import heapq
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sbamti.launch.model import Action, LaunchPlan, LogAction, ProcessSpec, ShutdownAction
from sbamti.launch.packages import child_environment

POLL_INTERVAL_S = 0.02
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
SI_KERNEL = 0x80              # siginfo code of a signal the kernel sent, e.g. Ctrl-C in a terminal
READER_JOIN_S = 0.5           # how long an exit report waits for the process's last output lines
LOG_DIR_VAR = "SBAMTI_LOG_DIR"
TEMP_PREFIX = "sbamti-launch-"   # + launcher pid: parameter files, container specs
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)   # loaded before any fork: the child only calls prctl


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """``preexec_fn``: SIGKILL this child when the launcher dies (also if it died during the fork).

    Also clears the signal mask, which the child would otherwise inherit from the launcher's loop.
    """
    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)
    return setup


def _remove_stale_temp_dirs() -> None:
    """Remove the temp dirs of launchers that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:   # alive, someone else's
            pass


class _Output:
    """Serialised, flushed line output shared by the loop and the reader threads."""

    def __init__(self, stdout: IO[str], stderr: IO[str]) -> None:
        self.stdout, self.stderr = stdout, stderr
        self.lock = threading.Lock()

    def write(self, stream: IO[str], line: str) -> None:
        with self.lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (BrokenPipeError, ValueError):   # reader of our output went away; keep running
                pass

    def event(self, text: str) -> None:
        self.write(self.stderr, f"[launch] {text}")


@dataclass
class _Child:
    spec: ProcessSpec
    popen: subprocess.Popen | None = None
    readers: list[threading.Thread] = field(default_factory=list)
    respawns: int = 0
    respawn_at: float | None = None
    term_at: float | None = None      # shutdown: SIGTERM after this time
    kill_at: float | None = None      # shutdown: SIGKILL after this time
    killed: bool = False
    log_file: IO[str] | None = None


class LaunchRunner:
    """Runs one plan to completion; ``run()`` returns the launcher's exit code."""

    def __init__(self, plan: LaunchPlan, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.plan = plan
        self.out = _Output(stdout or sys.stdout, stderr or sys.stderr)
        self.children: dict[int, _Child] = {}   # by action index
        self.pending: list[tuple[float, int, Action]] = []
        self.shutting_down = False
        self.escalated = False
        self.code = 0
        self.blocked: set[int] | None = None   # the signal mask to restore, when we own SIGINT/SIGTERM
        self.tmp: Path | None = None
        self.log_dir: Path | None = None

    # -- top level ---------------------------------------------------------------------------------
    def run(self) -> int:
        self._block_signals()
        try:
            _remove_stale_temp_dirs()
            self.tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
            start = time.monotonic()
            for index, action in enumerate(self.plan.actions):
                if isinstance(action, ProcessSpec):
                    action.write_files(self.tmp)
                    self.children[index] = _Child(action)
                delay = action.start_delay if isinstance(action, ProcessSpec) else action.delay
                heapq.heappush(self.pending, (start + delay, index, action))
            self._loop()
        finally:
            self._kill_leftovers()
            for child in self.children.values():
                if child.log_file:
                    child.log_file.close()
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self._unblock_signals()
            self.out.event(f"shutdown complete: returncode={self.code}")
        return self.code

    def _loop(self) -> None:
        while True:
            now = time.monotonic()
            if not self.shutting_down:
                while self.pending and self.pending[0][0] <= now and not self.shutting_down:
                    _, index, action = heapq.heappop(self.pending)
                    self._perform(index, action)
                for child in self.children.values():
                    if child.respawn_at is not None and child.respawn_at <= now and not self.shutting_down:
                        child.respawn_at = None
                        self._start(child)
            self._reap()
            if self.shutting_down:
                self._escalate(time.monotonic())
            running = any(c.popen is not None for c in self.children.values())
            waiting = self.pending or any(c.respawn_at is not None for c in self.children.values())
            if not running and (self.shutting_down or not waiting):
                return
            self._wait(POLL_INTERVAL_S)

    def _perform(self, index: int, action: Action) -> None:
        if isinstance(action, LogAction):
            self.out.event(f"log: {action.message}")
        elif isinstance(action, ShutdownAction):
            self._begin_shutdown(f"shutdown action: {action.reason}")
        else:
            self._start(self.children[index])

    # -- processes ---------------------------------------------------------------------------------
    def _start(self, child: _Child) -> None:
        spec = child.spec
        assert self.tmp is not None
        try:
            popen = subprocess.Popen(spec.command(self.tmp), cwd=spec.cwd, env=child_environment(spec.env),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_child_setup(os.getpid()), close_fds=True)
        except (OSError, subprocess.SubprocessError) as exc:
            self.out.event(f"process failed to start: name={spec.name} error={exc}")
            if spec.on_exit_shutdown:
                self.code = 1
                self._begin_shutdown(f"required process {spec.name} failed to start")
            return
        child.popen = popen
        self.out.event(f"process started: name={spec.name} pid={popen.pid}")
        if spec.output in ("log", "both") and child.log_file is None:
            child.log_file = (self._log_directory() / f"{spec.name}.log").open("a", buffering=1)
        child.readers = [self._reader(child, popen.stdout, self.out.stdout),
                         self._reader(child, popen.stderr, self.out.stderr)]

    def _reader(self, child: _Child, pipe: IO[bytes] | None, stream: IO[str]) -> threading.Thread:
        prefix = f"[{child.spec.name}] "
        to_screen = child.spec.output in ("screen", "both")
        log_file = child.log_file

        def copy() -> None:
            assert pipe is not None
            with pipe:
                for raw in pipe:
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    if to_screen:
                        self.out.write(stream, prefix + line)
                    if log_file is not None:
                        self.out.write(log_file, line)

        thread = threading.Thread(target=copy, name=f"output-{child.spec.name}", daemon=True)
        thread.start()
        return thread

    def _log_directory(self) -> Path:
        if self.log_dir is None:
            configured = os.environ.get(LOG_DIR_VAR)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.log_dir = Path(configured) if configured else Path(".sbamti_logs") / f"{stamp}-{os.getpid()}"
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.out.event(f"log directory: {self.log_dir}")
        return self.log_dir

    def _reap(self) -> None:
        for child in self.children.values():
            popen = child.popen
            if popen is None or popen.poll() is None:
                continue
            deadline = time.monotonic() + READER_JOIN_S
            for reader in child.readers:
                reader.join(max(0.0, deadline - time.monotonic()))
            child.popen, child.term_at, child.kill_at, child.killed = None, None, None, False
            self.out.event(f"process exited: name={child.spec.name} pid={popen.pid} returncode={popen.returncode}")
            self._after_exit(child, popen.returncode)

    def _after_exit(self, child: _Child, returncode: int) -> None:
        spec = child.spec
        if self.shutting_down:
            return
        if spec.on_exit_shutdown:
            if returncode != 0:
                self.code = returncode if returncode > 0 else 1
            self._begin_shutdown(f"required process {spec.name} exited with returncode {returncode}")
            return
        policy = spec.respawn
        if policy.enabled and (policy.max_retries < 0 or child.respawns < policy.max_retries):
            child.respawns += 1
            child.respawn_at = time.monotonic() + policy.delay_s
            limit = f"/{policy.max_retries}" if policy.max_retries >= 0 else ""
            self.out.event(f"respawning: name={spec.name} in {policy.delay_s:g} s (restart {child.respawns}{limit})")

    # -- shutdown ----------------------------------------------------------------------------------
    def _block_signals(self) -> None:
        """Take SIGINT/SIGTERM as events of the loop (``sigtimedwait``), to learn who sent them."""
        if threading.current_thread() is threading.main_thread():
            self.blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def _unblock_signals(self) -> None:
        if self.blocked is None:
            return
        while signal.sigpending() & STOP_SIGNALS:   # consumed here, not raised as KeyboardInterrupt
            signal.sigtimedwait(STOP_SIGNALS, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, self.blocked)

    def _wait(self, timeout: float) -> None:
        """Sleep ``timeout`` s, or less when SIGINT/SIGTERM arrives."""
        if self.blocked is None:
            time.sleep(timeout)
            return
        info = signal.sigtimedwait(STOP_SIGNALS, timeout)
        if info is not None:
            self._on_signal(info.si_signo, from_terminal=info.si_code == SI_KERNEL)

    def _on_signal(self, signum: int, *, from_terminal: bool) -> None:
        """First signal: shut down; second: SIGTERM now; third: SIGKILL now.

        A terminal's Ctrl-C reaches the whole foreground process group, children included, so the
        launcher does not send them a second SIGINT (which would interrupt their clean-up).
        """
        name = signal.Signals(signum).name
        now = time.monotonic()
        if not self.shutting_down:
            self._begin_shutdown(f"received {name}" + (" from the terminal" if from_terminal else ""),
                                 forward=not from_terminal)
        elif not self.escalated:
            self.escalated = True
            self.out.event(f"received {name} again: sending SIGTERM now")
            for child in self._running():
                child.term_at = now
        else:
            self.out.event(f"received {name} again: sending SIGKILL now")
            for child in self._running():
                child.term_at = child.kill_at = now

    def _begin_shutdown(self, reason: str, *, forward: bool = True) -> None:
        """Stop starting things; SIGINT every child (unless they got it already); start the clocks."""
        if self.shutting_down:
            return
        self.shutting_down = True
        self.out.event(f"shutting down: {reason}")
        self.pending.clear()
        now = time.monotonic()
        for child in self.children.values():
            child.respawn_at = None
        for child in self._running():
            if forward:
                self._signal(child, signal.SIGINT)
            child.term_at = now + child.spec.sigterm_timeout

    def _escalate(self, now: float) -> None:
        for child in self._running():
            if child.kill_at is None and child.term_at is not None and now >= child.term_at:
                self.out.event(f"sending SIGTERM: name={child.spec.name} pid={child.popen.pid}")
                self._signal(child, signal.SIGTERM)
                child.kill_at = now + child.spec.sigkill_timeout
            elif child.kill_at is not None and now >= child.kill_at and not child.killed:
                self.out.event(f"sending SIGKILL: name={child.spec.name} pid={child.popen.pid}")
                self._signal(child, signal.SIGKILL)
                child.killed = True

    def _running(self) -> list[_Child]:
        return [c for c in self.children.values() if c.popen is not None]

    @staticmethod
    def _signal(child: _Child, signum: int) -> None:
        try:
            if child.popen is not None:
                child.popen.send_signal(signum)
        except ProcessLookupError:
            pass

    def _kill_leftovers(self) -> None:
        """Last resort (the loop ended abnormally): SIGKILL and reap whatever still runs."""
        self.shutting_down = True
        for child in self._running():
            self._signal(child, signal.SIGKILL)
            assert child.popen is not None
            child.popen.wait()
        self._reap()


def run_plan(plan: LaunchPlan, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run ``plan`` until its processes end or a signal stops it; return the exit code.

    0 after a clean end or a SIGINT/SIGTERM shutdown; the required process's non-zero code (1 if it
    was killed by a signal) when a process with ``on_exit: shutdown`` failed.
    """
    return LaunchRunner(plan, stdout=stdout, stderr=stderr).run()
