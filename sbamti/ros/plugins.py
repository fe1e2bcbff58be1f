"""Composable node plugins: launch-file plugin names → the Python class a container instantiates.

A launch file names a plugin either by a row of ``PLUGINS`` (``sbamti::SimClock``) or by an import
path ``module.path:ClassName``. Plugin classes accept rclpy ``Node`` keyword arguments
(``cli_args``, ``use_global_arguments``), as every ``SbamtiNode`` does. This module does not import
rclpy, so the launcher can check plugin names without starting the middleware.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
from collections.abc import Sequence

from sbamti.errors import SbamtiError

# One row per composable node class.
PLUGINS: dict[str, str] = {
    "sbamti::SimClock": "sbamti_nodes.sim_clock:SimClockNode",
    "sbamti::OrbitState": "sbamti_nodes.orbit_state:OrbitStateNode",
    "sbamti::RadarSim": "sbamti_nodes.radar_sim:RadarSimNode",
    "sbamti::OnboardDetector": "sbamti_nodes.onboard_detector:OnboardDetectorNode",
    "sbamti::DownlinkTx": "sbamti_nodes.downlink_tx:DownlinkTxNode",
    "sbamti::DownlinkRx": "sbamti_nodes.downlink_rx:DownlinkRxNode",
    "sbamti::GroundTracker": "sbamti_nodes.ground_tracker:GroundTrackerNode",
}

_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\Z")


class PluginError(SbamtiError, LookupError):
    """A plugin name that is neither in the table nor an importable ``module:Class`` path."""


def resolve_plugin(plugin: str, search_paths: Sequence[str] = ()) -> str:
    """The ``module:Class`` import path for ``plugin``, checked without importing the module.

    ``search_paths`` are extra import directories the container will have (its ``PYTHONPATH``).
    """
    target = PLUGINS.get(plugin, plugin)
    if not _IMPORT_PATH.match(target):
        raise PluginError(f"unknown plugin {plugin!r} (known: {', '.join(sorted(PLUGINS))}; "
                          "or give an import path 'module.path:ClassName')")
    module = target.split(":", 1)[0]
    if not _module_exists(module, search_paths):
        where = f" (searched sys.path and {os.pathsep.join(search_paths)})" if search_paths else ""
        raise PluginError(f"plugin {plugin!r}: module {module!r} not found{where}")
    return target


def _module_exists(module: str, search_paths: Sequence[str]) -> bool:
    try:
        if importlib.util.find_spec(module) is not None:
            return True
    except (ImportError, ValueError):
        pass
    top = module.split(".", 1)[0]
    return bool(search_paths) and importlib.machinery.PathFinder.find_spec(top, list(search_paths)) is not None


def load_plugin(target: str) -> type:
    """Import ``module:Class`` and return the class."""
    module_name, _, attr_path = target.partition(":")
    obj: object = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    if not isinstance(obj, type):
        raise PluginError(f"plugin {target!r} is not a class")
    return obj
