"""Shared test set-up: every process the tests start follows the project's DDS network rule."""

from pathlib import Path

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

REPO_ROOT = Path(__file__).resolve().parents[1]
