"""The ``sbamti`` command-line tool: launch, demo, and graph introspection on rclpy's graph API.

``main`` dispatches the subcommands; ``graph`` holds the node/topic commands (the only module
here that imports rclpy, after the project's DDS environment is applied); ``fields`` turns messages
into YAML-like text and resolves field paths; ``rate`` computes ``topic hz`` statistics. The last two
are pure and tested directly with generated messages.
"""

from sbamti.errors import SbamtiError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(SbamtiError):
    """A command cannot do what was asked; ``exit_code`` is 1 (runtime failure) or 2 (usage error)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
