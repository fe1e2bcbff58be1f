"""The project's DDS environment: localhost-only discovery and the shipped Fast DDS profile.

Every process sbamti starts (launcher, nodes, CLI, tests, benchmarks) goes through
``apply_ros_environment`` before rclpy initialises, so discovery stays on loopback unless the user
explicitly chose another range, and large messages (data cubes) travel over shared memory.
This module does not import rclpy: the environment must be set before the middleware starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

FASTDDS_PROFILE_PATH = Path(__file__).with_name("fastdds_profile.xml")

DISCOVERY_RANGE_VAR = "ROS_AUTOMATIC_DISCOVERY_RANGE"
PROFILE_VARS = ("FASTDDS_DEFAULT_PROFILES_FILE",)
RMW_VAR = "RMW_IMPLEMENTATION"
AMENT_VAR = "AMENT_PREFIX_PATH"


def apply_ros_environment(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set the network rule and the Fast DDS profile in ``env`` (default ``os.environ``).

    Values the user already set are kept: an explicit discovery range or profile file wins; the
    running interpreter's prefix (the venv) is appended to ``AMENT_PREFIX_PATH`` when missing.
    Returns the mapping it changed, for chaining into ``subprocess`` calls.
    """
    target = os.environ if env is None else env
    if not target.get(DISCOVERY_RANGE_VAR):
        target[DISCOVERY_RANGE_VAR] = "LOCALHOST"
    if not any(target.get(name) for name in PROFILE_VARS):
        target["FASTDDS_DEFAULT_PROFILES_FILE"] = str(FASTDDS_PROFILE_PATH)
    target.setdefault(RMW_VAR, "rmw_fastrtps_cpp")
    # The venv is a ROS prefix (the ros-* wheels install share/ament_index into it): make it
    # searchable so find-pkg-share and ament_index_python work without sourcing a setup file.
    prefixes = [p for p in target.get(AMENT_VAR, "").split(os.pathsep) if p]
    if sys.prefix not in prefixes:
        target[AMENT_VAR] = os.pathsep.join([*prefixes, sys.prefix])
    # Flush log lines as they are written, so launcher output interleaves in time order.
    target.setdefault("PYTHONUNBUFFERED", "1")
    target.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "0")
    return target


def ros_environment(base: MutableMapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with the project's DDS settings and overrides."""
    env = dict(os.environ if base is None else base)
    env.update(overrides)
    apply_ros_environment(env)
    return env
