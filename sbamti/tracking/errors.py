"""The tracking package's domain error (pure: no ROS imports)."""

from sbamti.errors import SbamtiError


class TrackingError(SbamtiError, ValueError):
    """An input the filters cannot work with: a wrong shape, a covariance that is not positive
    definite, a negative time step, a transition matrix that is not stochastic.

    Messages name the argument, the offending track index and what was expected.
    """
