"""sbamti: the Python library (sbamti/), the rclpy nodes (nodes/ -> sbamti_nodes) and the tools."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "sbamti"

# One row per node executable: launch files say `pkg: sbamti, exec: <name>`.
NODE_EXECUTABLES = {
    "sim_clock": "sbamti_nodes.sim_clock:main",
    "orbit_state": "sbamti_nodes.orbit_state:main",
    "radar_sim": "sbamti_nodes.radar_sim:main",
    "onboard_detector": "sbamti_nodes.onboard_detector:main",
    "downlink_tx": "sbamti_nodes.downlink_tx:main",
    "downlink_rx": "sbamti_nodes.downlink_rx:main",
    "ground_tracker": "sbamti_nodes.ground_tracker:main",
}

# Tools: the command-line front end and the process that hosts composed node instances.
TOOL_EXECUTABLES = {
    "sbamti": "sbamti.cli.main:main",
    "component_container": "sbamti.ros.container:main",
}

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Software-in-the-loop ROS 2 node graph of a space-based airborne moving target indicator",
    python_requires=">=3.10",
    packages=find_packages(include=["sbamti", "sbamti.*"]) + ["sbamti_nodes"],
    package_dir={"sbamti_nodes": "nodes"},
    package_data={"sbamti": ["testing/*.xml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/sbamti"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.yaml")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.xml")),
    ],
    entry_points={
        "console_scripts": [f"{name} = {target}" for name, target in {**TOOL_EXECUTABLES, **NODE_EXECUTABLES}.items()],
        "pytest11": ["sbamti_graph = sbamti.testing.plugin"],
    },
)
