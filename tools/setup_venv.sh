#!/usr/bin/env bash
# Creates or refreshes the development environment in .venv:
#   1. pinned wheels from requirements.txt (rclpy, Fast DDS, rosidl build tools, numerics, pytest)
#   2. rosidl generation of msg/*.msg into the venv prefix as the interface package sbamti_msgs
#   3. editable install of sbamti, and the ROS package layout (share/sbamti, lib/sbamti/<exec>)
# The Makefile calls this only when one of its inputs changed, so a second run is a no-op.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv"
python_cmd=${PYTHON:-python3}

fail() { echo "sbamti set-up: $*" >&2; exit 1; }

command -v "$python_cmd" >/dev/null 2>&1 || fail "no '$python_cmd' on PATH: install Python 3.10 or newer (or set PYTHON=/path/to/python3)"
"$python_cmd" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || fail "Python 3.10 or newer is required; '$python_cmd' is $("$python_cmd" -c 'import sys; print(sys.version.split()[0])')"
"$python_cmd" -c 'import venv, ensurepip' 2>/dev/null || fail "'$python_cmd' lacks the venv/ensurepip modules (on Debian: apt-get install python3-venv)"
command -v cmake >/dev/null 2>&1 || fail "cmake is required to generate the message package (on Debian: apt-get install cmake)"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 \
  || fail "a C compiler (cc or gcc) is required to build the message package (on Debian: apt-get install build-essential)"
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 \
  || fail "a C++ compiler (c++ or g++) is required to build the message package (on Debian: apt-get install g++)"

if [ ! -x "$venv/bin/python" ]; then
  echo "sbamti set-up: creating $venv"
  "$python_cmd" -m venv "$venv"
fi
py="$venv/bin/python"

echo "sbamti set-up: installing pinned wheels"
"$py" -m pip install --quiet --disable-pip-version-check -r "$repo/requirements.txt" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

echo "sbamti set-up: generating sbamti_msgs from msg/"
build="$repo/build/sbamti_msgs"
mkdir -p "$repo/build"
(
  export CMAKE_PREFIX_PATH="$venv" AMENT_PREFIX_PATH="$venv" VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
  cmake -S "$repo/interfaces/sbamti_msgs" -B "$build" -DPython3_EXECUTABLE="$py" \
    -DCMAKE_INSTALL_PREFIX="$venv" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >"$build.configure.log" 2>&1 \
    || { cat "$build.configure.log" >&2; fail "configuring the message package failed (log above)"; }
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >"$build.build.log" 2>&1 \
    || { tail -n 60 "$build.build.log" >&2; fail "building the message package failed (log above)"; }
  cmake --install "$build" >"$build.install.log" 2>&1 \
    || { cat "$build.install.log" >&2; fail "installing the message package failed (log above)"; }
)

echo "sbamti set-up: installing sbamti (editable)"
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$repo"

# ROS package layout inside the venv prefix, pointing at the working tree so edits need no reinstall:
#   share/ament_index/resource_index/packages/sbamti   (ament index marker: find-pkg-share works)
#   share/sbamti -> repo                                (launch/, config/, package.xml)
#   lib/sbamti/<exec> -> bin/<exec>                    (where ros2 launch looks for executables)
"$py" "$repo/tools/install_ros_layout.py" --prefix "$venv" --repo "$repo"

"$py" -c 'import rclpy, sbamti_msgs.msg, sbamti' || fail "the environment was built but does not import (see above)"
echo "sbamti set-up: done ($venv)"
