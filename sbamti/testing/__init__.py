"""Graph-test harness: launch a YAML graph in a private ROS domain, wait on it, assert, tear down.

``GraphProcess`` runs the launcher as a child process group and parses its output;
``GraphObserver`` is an rclpy node in its own context (same private domain) that waits for nodes,
topics and messages; ``RunningGraph`` joins the two. ``sbamti.testing.plugin`` exposes them to
pytest as the ``launch_graph`` fixture.
"""

from sbamti.testing.domain import allocate_domain_id
from sbamti.testing.process import GraphProcess, ProcessExit
from sbamti.testing.session import RunningGraph, start_graph

__all__ = ["GraphProcess", "ProcessExit", "RunningGraph", "allocate_domain_id", "start_graph"]
