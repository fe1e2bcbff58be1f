"""Onboard detection: signal-processing stages from data cube to detections (pure: numpy/scipy/numba).

Never imports rclpy. CFAR detectors and clustering of threshold crossings are in
:mod:`sbamti.detection.cfar`.
"""
