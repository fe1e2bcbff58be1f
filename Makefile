# sbamti: `make demo` runs the graph end to end, `make test` runs the test suite.
# Both create .venv when missing; the stamp makes set-up a no-op when nothing it depends on changed.

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.sbamti-setup.stamp
SETUP_IN  := requirements.txt setup.py package.xml tools/setup_venv.sh tools/install_ros_layout.py \
             interfaces/sbamti_msgs/CMakeLists.txt interfaces/sbamti_msgs/package.xml $(wildcard msg/*.msg)

# Localhost-only DDS discovery for everything started from here (the project's network rule),
# unless the caller chose a range.
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): $(SETUP_IN)
	@tools/setup_venv.sh
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/sbamti demo

test: $(STAMP)
	$(PY) -m pytest -q test

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf build $(VENV) .pytest_cache
