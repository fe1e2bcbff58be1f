"""Radar model core (pure: numpy/scipy/numba, no ROS): configuration, radar equation, look geometry,
targets, clutter, I/Q synthesis and detection for the space-based AMTI radar."""
