"""sbamti: software-in-the-loop node graph of a space-based airborne moving target indicator.

The algorithm subpackages (orbit, radar, detection, link, tracking, evaluation, geo) are pure
numpy/scipy/numba and never import rclpy. ROS tooling lives in sbamti.ros, sbamti.launch,
sbamti.testing and sbamti.cli.
"""

__version__ = "0.1.0"
