"""One graph shared by the tests of a module (module_launch_graph), parametrised by launch args."""

from pathlib import Path

import pytest

GRAPH = Path(__file__).parent / "launch_files" / "graph_clock.launch.yaml"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def graph(module_launch_graph):
    running = module_launch_graph(GRAPH, outer_ns="shared", rate=3.0)
    running.wait_ready(nodes=["/sim_clock", "/shared/sensors/clock_listener"])
    return running


def test_the_launch_arg_chose_the_namespace(graph):
    assert "/shared/sensors/clock_listener" in graph.observer.node_names()
    assert "/bench/sensors/clock_listener" not in graph.observer.node_names()


def test_the_same_graph_is_still_running(graph):
    # both tests see the same processes: one start of each
    assert len(graph.process.started["sim_clock"]) == 1
    assert graph.returncode is None
    graph.wait_for_messages("/shared/sensors/clock_listener/sim_now", "rosgraph_msgs/msg/Clock", count=2,
                            predicate=lambda m: m.clock.sec > 0, timeout=10)
