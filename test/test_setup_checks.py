"""tools/setup_venv.sh refuses to start, with a message naming the missing tool, before touching anything."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "setup_venv.sh"


def _bin_dir(tmp_path: Path, tools: list[str]) -> Path:
    """A PATH directory holding only the named tools (symlinks to the real ones)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ["dirname", *tools]:
        # the interpreter itself, not a shim script that needs more of PATH
        real = os.path.realpath(sys._base_executable) if tool == "python3" else shutil.which(tool)
        assert real, f"test needs {tool} on this machine"
        (bindir / tool).symlink_to(real)
    return bindir


def _run(bindir: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(bindir), "HOME": os.environ.get("HOME", "/tmp"), **env})


@pytest.mark.parametrize("present, missing_word", [
    (["python3"], "cmake is required"),
    (["python3", "cmake"], "a C compiler (cc or gcc) is required"),
])
def test_missing_build_tool_is_named(tmp_path, present, missing_word):
    result = _run(_bin_dir(tmp_path, present))
    assert result.returncode == 1
    assert missing_word in result.stderr
    assert "creating" not in result.stdout  # nothing was started


def test_old_python_is_refused(tmp_path):
    bindir = _bin_dir(tmp_path, ["cmake"])
    fake = bindir / "python3"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *version_info*\\>=*) exit 1;; *) echo 3.9.18;; esac\n")
    fake.chmod(0o755)
    result = _run(bindir)
    assert result.returncode == 1
    assert "Python 3.10 or newer is required" in result.stderr and "3.9.18" in result.stderr


def test_missing_python_is_named(tmp_path):
    result = _run(_bin_dir(tmp_path, []), PYTHON="python3.99")
    assert result.returncode == 1
    assert "no 'python3.99' on PATH" in result.stderr
