"""The project's exception types (pure: no ROS imports)."""


class SbamtiError(Exception):
    """Base of every error sbamti raises on purpose."""


class ConfigurationError(SbamtiError, ValueError):
    """A parameter, file or option has a value the component cannot work with.

    Messages name the field, the value received and what was expected.
    """
