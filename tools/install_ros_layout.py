"""Lay out the sbamti ROS package inside a prefix (the venv) the way colcon would install it.

The working tree stays the source of truth: share/sbamti is a symlink to the repository and
lib/sbamti/<exec> are symlinks to the console scripts, so editing a launch file or a node needs no
reinstall. Executables are taken from the installed distribution's console_scripts (setup.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
from importlib import metadata
from pathlib import Path

PACKAGE = "sbamti"


def _replace_with_symlink(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--repo", type=Path, required=True)
    options = parser.parse_args()
    prefix, repo = options.prefix.resolve(), options.repo.resolve()

    marker = prefix / "share" / "ament_index" / "resource_index" / "packages" / PACKAGE
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("")
    _replace_with_symlink(prefix / "share" / PACKAGE, repo)

    lib_dir = prefix / "lib" / PACKAGE
    if lib_dir.is_symlink():
        lib_dir.unlink()
    lib_dir.mkdir(parents=True, exist_ok=True)
    scripts = [ep.name for ep in metadata.entry_points(group="console_scripts") if ep.dist and ep.dist.name == PACKAGE]
    for name in scripts:
        _replace_with_symlink(lib_dir / name, Path(os.path.relpath(prefix / "bin" / name, lib_dir)))


if __name__ == "__main__":
    main()
