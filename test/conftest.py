"""Shared test set-up: every process the tests start follows the project's DDS network rule."""

from pathlib import Path

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

REPO_ROOT = Path(__file__).resolve().parents[1]


import pytest  # noqa: E402


@pytest.fixture
def ros_context():
    """An rclpy context of its own, in a private ROS domain, shut down after the test."""
    import rclpy
    from rclpy.context import Context

    from sbamti.testing.domain import allocate_domain_id

    with allocate_domain_id() as domain_id:
        context = Context()
        rclpy.init(context=context, domain_id=domain_id)
        yield context
        context.try_shutdown()
