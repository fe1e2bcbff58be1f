"""Orbits of the constellation (pure: numpy, scipy and sgp4 only, never rclpy).

``elements`` reads and writes orbital element sets (TLE/3LE text, CelesTrak OMM XML/CSV/JSON) into
ready-to-propagate ``sgp4`` satellites, rejecting malformed satellites one by one with errors that
name the source, line, satellite and field; ``walker`` generates Walker-delta constellations as
element sets. Import the submodules directly (``from sbamti.orbit.elements import load_element_sets``).
"""
