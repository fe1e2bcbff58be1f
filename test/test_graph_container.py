"""Containers: 40 node instances composed into 4 processes all hear each other on one topic."""

from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
NUM_CONTAINERS = 4
NODES_PER_CONTAINER = 10
TOTAL = NUM_CONTAINERS * NODES_PER_CONTAINER

pytestmark = pytest.mark.timeout(120)


def _container_launch(tmp_path: Path) -> Path:
    """One table drives the graph: 4 containers x 10 peers, generated rather than copy-pasted."""
    containers = []
    for c in range(NUM_CONTAINERS):
        composable = [{
            "pkg": "sbamti", "plugin": "peer_node:PeerNode", "name": "peer", "namespace": f"/sat{c * NODES_PER_CONTAINER + k:02d}",
            "param": [{"name": "expected_peers", "value": TOTAL}, {"name": "announce_period_s", "value": 0.5}],
        } for k in range(NODES_PER_CONTAINER)]
        containers.append({"node_container": {"pkg": "sbamti", "exec": "component_container",
                                              "name": f"container{c}", "namespace": "/", "composable_node": composable}})
    doc = {"launch": [{"set_env": {"name": "PYTHONPATH", "value": str(HERE / "graph_nodes")}}, *containers]}
    path = tmp_path / "peers.launch.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_forty_composed_nodes_see_each_other(launch_graph, tmp_path):
    graph = launch_graph(_container_launch(tmp_path))
    expected = {f"/sat{i:02d}/peer" for i in range(TOTAL)}
    graph.wait_ready(nodes=expected | {f"/container{c}" for c in range(NUM_CONTAINERS)}, timeout=60)
    done = graph.wait_for_messages("/peers_complete", "std_msgs/msg/String", count=TOTAL, timeout=60)
    assert {m.data for m in done} == expected
    assert len(graph.process.started) == NUM_CONTAINERS  # 40 nodes, 4 processes
    assert graph.shutdown() == 0
    assert all(code == 0 for code in graph.exit_codes.values()), graph.exit_codes
