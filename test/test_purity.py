"""The algorithm library must not depend on ROS: importing it must not load rclpy."""

import pkgutil
import subprocess
import sys

import sbamti

# Tooling packages that are allowed (and meant) to use rclpy.
ROS_TOOLING = {"sbamti.ros", "sbamti.launch", "sbamti.testing", "sbamti.cli", "sbamti.demo"}
# Pure helpers inside sbamti.ros that must stay importable before rclpy (they set up its environment).
PURE_IN_TOOLING = {"sbamti.ros.env", "sbamti.ros.arrays"}


def _pure_modules():
    names = []
    for info in pkgutil.walk_packages(sbamti.__path__, "sbamti."):
        if any(info.name == t or info.name.startswith(t + ".") for t in ROS_TOOLING):
            continue
        names.append(info.name)
    return sorted(names) + sorted(PURE_IN_TOOLING)


def test_library_modules_do_not_import_rclpy():
    modules = _pure_modules()
    assert "sbamti.timeutil" in modules and "sbamti.simclock" in modules
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'rclpy' not in sys.modules, name + ' imported rclpy'\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
