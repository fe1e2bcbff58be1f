"""``sbamti launch [PKG] FILE [name:=value ...]``: check the launch file completely, then run it.

Exit codes: the graph's (see ``run_plan``), or 2 when the file or the arguments are wrong, in which
case nothing was started.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from sbamti.launch.model import LaunchFileError, LaunchPlan, LogAction, ProcessSpec
from sbamti.launch.packages import package_share
from sbamti.launch.plan import declared_args, load_launch_file
from sbamti.launch.runner import run_plan

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sbamti launch", description="Run a ROS 2 YAML launch file (every process in this process group).")
    parser.add_argument("file", metavar="[PKG] FILE",
                        help="a launch file, or a package and a file in its share/<pkg>/launch")
    parser.add_argument("words", nargs="*", default=[], metavar="name:=value", help="launch arguments")
    parser.add_argument("--wall-time", action="store_true",
                        help="do not give nodes use_sim_time: true by default")
    parser.add_argument("--dry-run", action="store_true", help="print what would run and exit")
    parser.add_argument("--show-args", action="store_true", help="print the file's launch arguments and exit")
    return parser


def _split_words(words: list[str]) -> tuple[Path, list[str]]:
    """The launch file (``FILE`` or ``PKG FILE``) and the remaining ``name:=value`` words."""
    first, rest = words[0], words[1:]
    if not Path(first).is_file() and rest and ":=" not in rest[0]:
        share = package_share(first)
        for candidate in (share / "launch" / rest[0], share / rest[0]):
            if candidate.is_file():
                return candidate, rest[1:]
        raise LaunchFileError(f"launch file {rest[0]!r} not found in package {first!r} (looked in {share / 'launch'})")
    return Path(first), rest


def parse_launch_args(words: Sequence[str]) -> dict[str, str]:
    """``name:=value`` words → {name: value}."""
    args: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition(":=")
        if not sep or not name:
            raise LaunchFileError(f"bad launch argument {word!r} (expected name:=value)")
        args[name] = value
    return args


def _show_args(path: Path) -> None:
    for name, attrs in declared_args(path).items():
        default = f"default {attrs['default']!r}" if "default" in attrs else "required"
        choices = [str(c.get("value")) for c in attrs.get("choice") or [] if isinstance(c, dict)]
        line = f"{name} ({default})"
        if attrs.get("description"):
            line += f": {attrs['description']}"
        if choices:
            line += f" [choices: {', '.join(choices)}]"
        print(line)


def _print_plan(plan: LaunchPlan) -> None:
    for action in plan.actions:
        if isinstance(action, ProcessSpec):
            delay = f" after {action.start_delay:g} s" if action.start_delay else ""
            print(f"{action.kind} {action.name}{' ' + action.fqn if action.fqn else ''}{delay}")
            print(f"  cmd: {shlex.join(action.cmd)}")
            if action.namespace is not None:
                print(f"  params: {action.params}")
            if action.env:
                print(f"  env: {action.env}")
            if action.respawn.enabled:
                print(f"  respawn: delay {action.respawn.delay_s:g} s, max retries {action.respawn.max_retries}")
            if action.on_exit_shutdown:
                print("  on_exit: shutdown")
            for node in action.composable_nodes:
                print(f"  composable {node.fqn or '(unnamed)'}: {node.plugin} -> {node.target} params {node.params}")
        elif isinstance(action, LogAction):
            print(f"log: {action.message}")
        else:
            print(f"shutdown: {action.reason}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sbamti launch``; ``argv`` is everything after ``launch``."""
    try:
        options = _parser().parse_intermixed_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:   # --help, or a usage error argparse already printed
        return int(exc.code or 0)
    try:
        path, words = _split_words([options.file, *options.words])
        if options.show_args:
            _show_args(path)
            return 0
        plan = load_launch_file(path, parse_launch_args(words), wall_time=options.wall_time)
    except LaunchFileError as exc:
        print(f"sbamti launch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if options.dry_run:
        try:
            _print_plan(plan)
        except BrokenPipeError:   # `--dry-run | head`: no traceback when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return run_plan(plan)
