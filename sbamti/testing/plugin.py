"""pytest plugin (entry point ``sbamti_graph``): the ``launch_graph`` and ``module_launch_graph`` fixtures.

    def test_clock(launch_graph):
        graph = launch_graph("launch/demo.launch.yaml", rate=10.0)
        graph.wait_ready(nodes=["/sim_clock"], topics=["/clock"])
        msgs = graph.wait_for_messages("/clock", count=5, timeout=5)
        assert graph.shutdown() == 0
        assert graph.exit_codes["sim_clock"] == 0

Each graph runs in its own ROS domain; at teardown, even after a failure, every graph the test
started is shut down (SIGINT, then SIGKILL of its process group) and its output is attached to the
report of a failing test.
"""

from __future__ import annotations

import contextlib
import os

import pytest


def _graph_factory(request):
    """Yield a ``start(file, **args)`` factory; shut every graph it started down afterwards."""
    from sbamti.testing.session import start_graph  # imports rclpy: only when a fixture is used

    stack = contextlib.ExitStack()
    graphs = []

    def start(launch_file: str | os.PathLike, *, extra_args=(), env=None, **launch_args):
        graph = stack.enter_context(start_graph(launch_file, launch_args, extra_args=extra_args, env=env))
        graphs.append(graph)
        return graph

    try:
        yield start
    finally:
        stack.close()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for graph in graphs:
            request.node.add_report_section("teardown", f"graph output ({graph.process.launch_file})",
                                            graph.output()[-20000:])


@pytest.fixture
def launch_graph(request):
    """Factory: ``launch_graph(file, extra_args=(), env=None, **launch_args) -> RunningGraph``.

    Graphs live for one test."""
    yield from _graph_factory(request)


@pytest.fixture(scope="module")
def module_launch_graph(request):
    """As ``launch_graph``, but graphs live until the module's last test: start once, assert many times."""
    yield from _graph_factory(request)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
