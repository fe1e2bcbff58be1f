"""``sbamti``: the project's command-line front end.

    sbamti launch FILE [name:=value ...] [--wall-time]   run a launch file (sbamti.launch.cli)
    sbamti demo [...]                                    run the end-to-end demo (sbamti.demo)
    sbamti node list [-a]                                nodes in the graph
    sbamti topic list [-t]                               topics (with types)
    sbamti topic info TOPIC [-v]                         type, publishers, subscriptions, QoS
    sbamti topic echo TOPIC [--once] [--field a.b] ...   print messages as YAML-like text
    sbamti topic hz TOPIC [--window N] ...               message rate, once per second
    sbamti tle walker --total T --planes P ... [--out F] write a Walker constellation as 3LE (sbamti.cli.tle)
    sbamti tle check FILE [--list]                       report malformed satellites in element files

Exit codes: 0 success (and Ctrl-C), 1 runtime failure (topic never appeared, no messages),
2 usage error. The project's DDS environment is applied before anything imports rclpy; the graph
commands import rclpy only when they run, so ``--help`` and usage errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from sbamti.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError
from sbamti.cli import tle as tle_commands
from sbamti.cli.fields import DEFAULT_ARRAY_LIMIT, FieldPathError, MessageTypeError
from sbamti.ros.env import apply_ros_environment

PROG = "sbamti"

# Subcommands owned by other modules: everything after the subcommand's name is theirs (--help too).
DELEGATES = {
    "launch": ("sbamti.launch.cli", "run a launch file: sbamti launch FILE [name:=value ...] [--wall-time]"),
    "demo": ("sbamti.demo", "run the end-to-end demo graph"),
}


# -- argument types -------------------------------------------------------------------------------
def _int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text}")
        return value
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _window(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"the window needs at least 2 messages, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text}")
    return value


# -- parser ---------------------------------------------------------------------------------------
def _add_spin_time(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spin-time", type=_seconds, default=3.0, metavar="S",
                        help="longest wait for discovery to settle before listing; the listing is printed "
                             "earlier once the graph stops changing (default: %(default)s s)")


def _add_subscription_options(parser: argparse.ArgumentParser, timeout_what: str) -> None:
    parser.add_argument("topic", metavar="TOPIC", help="topic name, e.g. /clock")
    parser.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                        help=f"exit 1 if the topic has no publisher, or {timeout_what}, within S seconds "
                             "(default: %(default)s; 0 waits forever)")
    parser.add_argument("--qos-reliability", choices=("reliable", "best_effort"),
                        help="override the reliability (default: reliable when every publisher is)")
    parser.add_argument("--qos-depth", type=_positive_int, default=10, metavar="N",
                        help="subscription history depth (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="sbamti command-line tools: launch files, the demo, and graph introspection.",
        epilog="Exit codes: 0 ok (and Ctrl-C), 1 runtime failure, 2 usage error. "
               "ROS_DOMAIN_ID is taken from the environment; discovery is localhost-only unless "
               "ROS_AUTOMATIC_DISCOVERY_RANGE says otherwise.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_module, help_text) in DELEGATES.items():  # listed for --help; main() hands them over
        commands.add_parser(name, help=help_text, add_help=False)

    # node
    node = commands.add_parser("node", help="inspect nodes", description="Inspect the nodes in the graph.")
    node_commands = node.add_subparsers(dest="node_command", metavar="SUBCOMMAND", required=True)
    node_list = node_commands.add_parser("list", help="fully-qualified node names, sorted",
                                         description="Print the fully-qualified names of the nodes in the graph.")
    node_list.add_argument("-a", "--all", action="store_true", help="include hidden nodes (names starting with _)")
    _add_spin_time(node_list)
    node_list.set_defaults(run="node_list")

    # topic
    topic = commands.add_parser("topic", help="inspect topics", description="Inspect and echo topics.")
    topic_commands = topic.add_subparsers(dest="topic_command", metavar="SUBCOMMAND", required=True)

    topic_list = topic_commands.add_parser("list", help="topic names, sorted",
                                           description="Print the names of the topics in the graph, sorted.")
    topic_list.add_argument("-t", "--show-types", action="store_true", help="append each topic's [type]")
    topic_list.add_argument("--include-hidden-topics", action="store_true",
                            help="include hidden topics (names with a token starting with _)")
    _add_spin_time(topic_list)
    topic_list.set_defaults(run="topic_list")

    topic_info = topic_commands.add_parser("info", help="type, publisher and subscription counts of a topic",
                                           description="Print a topic's type and its publisher and subscription "
                                                       "counts.")
    topic_info.add_argument("topic", metavar="TOPIC")
    topic_info.add_argument("-v", "--verbose", action="store_true", help="list the endpoints with their QoS")
    topic_info.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                            help="exit 1 if the topic has not appeared within S seconds (default: %(default)s; "
                                 "0 waits forever)")
    topic_info.set_defaults(run="topic_info")

    echo = topic_commands.add_parser(
        "echo", help="print messages as YAML-like text",
        description="Print the messages of a topic as YAML-like text, separated by '---'. The type comes from "
                    "the graph; the subscription uses a QoS the publishers can serve (transient-local "
                    "publishers get a transient-local subscription, which receives their stored history).")
    _add_subscription_options(echo, "no message arrives")
    echo.add_argument("--qos-durability", choices=("volatile", "transient_local"),
                      help="override the durability (default: transient_local when every publisher is)")
    count = echo.add_mutually_exclusive_group()
    count.add_argument("--once", action="store_true", help="print one message and exit")
    count.add_argument("--count", type=_positive_int, metavar="N", help="print N messages and exit")
    echo.add_argument("--field", metavar="PATH",
                      help="print only this field, e.g. header.stamp.sec or tracks[0].position_ecef")
    arrays = echo.add_mutually_exclusive_group()
    arrays.add_argument("--array-limit", type=_non_negative_int, default=DEFAULT_ARRAY_LIMIT, metavar="N",
                        help="show the first N elements of longer sequences, then '...' (default: %(default)s)")
    arrays.add_argument("--full-arrays", action="store_true", help="print every element of every sequence")
    echo.add_argument("--flow-style", action="store_true", help="print each message on one line")
    echo.set_defaults(run="topic_echo")

    hz = topic_commands.add_parser(
        "hz", help="message rate, reported once per second",
        description="Report the rate of a topic once per second: mean rate over a sliding window and the "
                    "min/max/standard deviation of the period between arrivals.")
    _add_subscription_options(hz, "no message arrives")
    hz.add_argument("--window", type=_window, default=10000, metavar="N",
                    help="number of most recent messages the statistics cover (default: %(default)s)")
    hz.add_argument("--count-reports", type=_positive_int, metavar="K", help="exit after K reports")
    hz.set_defaults(run="topic_hz")

    tle_commands.add_parser(commands)  # tle walker / tle check: pure, no rclpy
    return parser


# -- dispatch -------------------------------------------------------------------------------------
def _delegate(command: str, argv: list[str]) -> int:
    module_name = DELEGATES[command][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise  # a dependency of the delegate is missing: show the real error
        print(f"{PROG}: error: '{command}' is not available: {module_name} is not installed", file=sys.stderr)
        return EXIT_FAILURE
    code = module.main(argv)
    return EXIT_OK if code is None else int(code)


def _silence_stdout() -> None:
    """After a closed pipe (``sbamti topic echo /clock | head``): stop Python's exit-time flush error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run(argv: Sequence[str]) -> int:
    """Parse ``argv`` (without the program name) and run the command; return the exit code."""
    argv = list(argv)
    apply_ros_environment()
    if argv and argv[0] in DELEGATES:
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)  # SystemExit(2) on usage errors, SystemExit(0) after --help
    if hasattr(args, "handler"):  # commands that never touch the graph
        return args.handler(args)
    from sbamti.cli import graph  # imports rclpy, after the environment is set

    return getattr(graph, args.run)(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except FieldPathError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MessageTypeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
