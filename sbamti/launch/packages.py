"""Where packages, node executables and commands are, and the environment children start with.

Packages are found through the ament index. The venv is an ament prefix (its
``share/ament_index``), which ``sbamti.ros.env`` adds to ``AMENT_PREFIX_PATH``; the venv's
``bin`` goes first on children's ``PATH`` so ``python3`` and console scripts are the venv's.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix

from sbamti.launch.model import LaunchFileError
from sbamti.ros.env import AMENT_VAR, apply_ros_environment, ros_environment


def venv_bin() -> Path:
    return Path(sys.prefix) / "bin"


def _prepend(value: str | None, entry: str) -> str:
    parts = [p for p in (value or "").split(os.pathsep) if p and p != entry]
    return os.pathsep.join([entry, *parts])


def base_environment() -> dict[str, str]:
    """The environment every child starts from, before the launch file's env changes."""
    env = dict(os.environ)
    env["PATH"] = _prepend(env.get("PATH"), str(venv_bin()))
    return env


def child_environment(overrides: Mapping[str, str | None]) -> dict[str, str]:
    """``base_environment`` + the launch file's changes + the project's DDS rule (localhost only).

    The DDS settings are applied last but keep values set explicitly, as ``ros_environment``
    always does; an ``unset_env`` of the discovery range therefore falls back to LOCALHOST.
    """
    env = base_environment()
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return ros_environment(env)


def package_prefix(package: str) -> Path:
    apply_ros_environment()  # the venv is an ament prefix
    try:
        return Path(get_package_prefix(package))
    except (PackageNotFoundError, ValueError):
        raise LaunchFileError(f"package {package!r} not found in the ament index "
                              f"({AMENT_VAR}={os.environ.get(AMENT_VAR, '')})") from None


def package_share(package: str) -> Path:
    return package_prefix(package) / "share" / package


def node_executable(package: str, executable: str) -> Path:
    """``<prefix>/lib/<package>/<executable>``, which must exist and be executable."""
    lib = package_prefix(package) / "lib" / package
    path = lib / executable
    if path.is_file() and os.access(path, os.X_OK):
        return path
    available = sorted(p.name for p in lib.iterdir() if p.is_file() and os.access(p, os.X_OK)) if lib.is_dir() else []
    raise LaunchFileError(f"executable {executable!r} not found in package {package!r} (looked in {lib}; "
                          f"available: {', '.join(available) or 'none'})")


def find_command(command: str, search_path: str | None, cwd: str | None) -> Path:
    """An executable given as a path (relative to ``cwd``) or a name on ``search_path``."""
    if "/" in command:
        path = Path(command) if os.path.isabs(command) else Path(cwd or os.getcwd()) / command
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise LaunchFileError(f"command {command!r} not found or not executable ({path})")
    found = shutil.which(command, path=search_path)
    if found is None:
        raise LaunchFileError(f"command {command!r} not found on PATH")
    return Path(found)
