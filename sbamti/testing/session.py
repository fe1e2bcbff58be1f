"""A launched graph and an observer on its private domain, as one object with one teardown."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sbamti.testing.domain import allocate_domain_id
from sbamti.testing.observer import GraphObserver
from sbamti.testing.process import GraphProcess


class RunningGraph:
    """A graph started from a launch file, with the observer that watches it.

    The graph-level assertions a test needs: ``wait_ready``, ``wait_for_messages``,
    ``wait_for_output``, ``shutdown`` and, afterwards, ``exit_codes`` / ``returncode``.
    """

    def __init__(self, process: GraphProcess, observer: GraphObserver) -> None:
        self.process = process
        self.observer = observer
        self.domain_id = process.domain_id

    # delegation, spelled out so the harness API is visible in one place
    def wait_ready(self, nodes: Sequence[str] = (), topics: Sequence[str] = (), timeout: float = 15.0) -> None:
        """Wait until nodes and topics exist (launch_testing's ready point, 15 s by default)."""
        self._check_alive()
        self.observer.wait_ready(nodes, topics, timeout)

    def wait_for_messages(self, topic: str, msg_type: str | type | None = None, **kwargs: Any) -> list[Any]:
        return self.observer.wait_for_messages(topic, msg_type, **kwargs)

    def subscribe(self, topic: str, msg_type: str | type | None = None, **kwargs: Any):
        return self.observer.subscribe(topic, msg_type, **kwargs)

    def wait_matched(self, topics: Sequence[str], timeout: float = 15.0) -> None:
        self.observer.wait_matched(topics, timeout)

    def messages(self, topic: str) -> list[Any]:
        return self.observer.messages(topic)

    def wait_for_output(self, pattern: str, *, process: str | None = None, timeout: float = 10.0):
        return self.process.wait_for_output(pattern, process=process, timeout=timeout)

    def shutdown(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """Stop the graph like Ctrl-C would and return the launcher's exit code."""
        return self.process.shutdown(sig, timeout)

    @property
    def exit_codes(self) -> dict[str, int]:
        return self.process.exit_codes

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def output(self) -> str:
        return self.process.output()

    def _check_alive(self) -> None:
        code = self.process.returncode
        if code is not None:
            raise RuntimeError(f"the launcher exited with code {code} before the graph was ready:\n"
                               + "\n".join(self.process.lines[-40:]))

    def close(self) -> None:
        """Shut down (SIGINT, then SIGKILL to the group), stop observing. Safe to call twice."""
        try:
            if self.process.returncode is None:
                self.process.shutdown(signal.SIGINT, timeout=10.0)
        finally:
            self.process.kill_group()
            self.observer.close()


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port free at the time of the call (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def start_graph(launch_file: str | os.PathLike, launch_args: Mapping[str, object] | None = None, *,
                extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                domain_id: int | None = None) -> Iterator[RunningGraph]:
    """Launch ``launch_file`` in a private ROS domain; always tear the graph down on exit.

    Each graph also gets its own link state directory (``SBAMTI_LINK_STATE_DIR``, removed afterwards)
    and a free UDP port for the ground station (``SBAMTI_GROUND_PORT``), unless ``env`` sets them, so
    graphs never share onboard stores or sockets.
    """
    with contextlib.ExitStack() as stack:
        if domain_id is None:
            domain_id = stack.enter_context(allocate_domain_id())
        env = dict(os.environ if env is None else env)   # a given env is the whole environment
        if "SBAMTI_LINK_STATE_DIR" not in env:
            env["SBAMTI_LINK_STATE_DIR"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="sbamti-link-"))
        env.setdefault("SBAMTI_GROUND_PORT", str(free_udp_port()))
        observer = GraphObserver(domain_id)
        stack.callback(observer.close)
        process = GraphProcess(launch_file, launch_args, domain_id=domain_id, extra_args=extra_args, env=env)
        stack.callback(process.kill_group)
        graph = RunningGraph(process, observer)
        graph.link_state_dir = env["SBAMTI_LINK_STATE_DIR"]
        graph.ground_port = int(env["SBAMTI_GROUND_PORT"])
        stack.callback(graph.close)
        yield graph
