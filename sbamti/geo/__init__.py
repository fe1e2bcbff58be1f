"""Earth-frame geometry (pure: numpy/scipy/numba only, never rclpy or astropy).

- :mod:`sbamti.geo.timescales` -- exact two-part Julian dates from the sim clock's UTC nanoseconds.
- :mod:`sbamti.geo.earth_orientation` -- UT1-UTC, polar motion and LOD from an IERS finals2000A table.
- :mod:`sbamti.geo.wgs84` -- the WGS 84 ellipsoid: geodetic <-> ECEF, local ENU axes.
- :mod:`sbamti.geo.frames` -- IAU-82 GMST, TEME (the SGP4 output frame) -> ITRS/ECEF, LVLH attitude
  quaternions and quaternion <-> matrix conversion.

Units are SI (metres, seconds, radians) unless a name says otherwise; arrays are float64 and
vectorised over leading dimensions.
"""
