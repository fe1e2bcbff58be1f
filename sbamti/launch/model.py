"""What a launch file evaluates to: a ``LaunchPlan`` of process descriptions, before anything runs.

The plan is plain data so tests (and ``sbamti launch --dry-run``) can check what would run without
running it. Inline parameters stay as dicts until the runner writes them to its temp directory;
``ProcessSpec.cmd`` shows the command with ``<params_dir>`` standing in for that directory.

Parameter files and precedence. rcl applies the entries of all ``--params-file`` files grouped by
key, keys in the order they first appear, and within one key the later file wins. So a node's
command gets, in order: a ``/**`` file with the defaults (``use_sim_time``) and ``set_parameter``
values (always written, so ``/**`` is the first key), then the node's own ``param`` list in file
order, inline values keyed by the node's fully qualified name. Inline values and ``from:`` entries
keyed by the node's name therefore override each other in file order; a ``from:`` file's ``/**``
entries override the defaults and ``set_parameter`` only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from sbamti.errors import SbamtiError

PLACEHOLDER_DIR = Path("<params_dir>")


class LaunchFileError(SbamtiError):
    """A launch file (or its command-line arguments) cannot be turned into a plan.

    The message names the file, the entity (position path, type, name and line) and the problem.
    Helpers that do not know the location raise it with ``problem`` only; the evaluator adds the
    location with ``located``.
    """

    def __init__(self, problem: str, *, path: str | Path | None = None, entity: str | None = None,
                 included_from: tuple[str, ...] = ()) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.entity = entity
        self.included_from = included_from
        parts = [p for p in (self.path, entity) if p]
        text = ": ".join([*parts, problem])
        for origin in included_from:
            text += f"\n  included from {origin}"
        super().__init__(text)

    def located(self, path: str | Path, entity: str | None, included_from: tuple[str, ...] = ()) -> LaunchFileError:
        """This error with its missing location filled in (the innermost location wins)."""
        if self.path is not None:
            return self
        return LaunchFileError(self.problem, path=path, entity=self.entity or entity, included_from=included_from)


# A parameter source: inline values (written to a temp file) or a user parameter file, in file order.
ParamSource = Union[dict[str, Any], Path]


@dataclass(frozen=True)
class RespawnPolicy:
    """Restart a process after it exits: wait ``delay_s``, at most ``max_retries`` times (-1: no limit)."""

    enabled: bool = False
    delay_s: float = 0.0
    max_retries: int = -1


@dataclass(frozen=True)
class ComposableNodeSpec:
    """One node instance hosted by a container process."""

    plugin: str               # as written in the launch file
    target: str               # "module.path:ClassName" the container imports
    node_name: str | None
    namespace: str
    default_params: dict[str, Any] = field(default_factory=dict)   # use_sim_time, set_parameter
    param_sources: tuple[ParamSource, ...] = ()
    remaps: tuple[tuple[str, str], ...] = ()
    extra_args: dict[str, Any] = field(default_factory=dict)
    origin: str = ""          # where it was declared, for messages

    @property
    def fqn(self) -> str | None:
        return None if self.node_name is None else join_fqn(self.namespace, self.node_name)

    @property
    def params(self) -> dict[str, Any]:
        return {**self.default_params, **merged_params(self.param_sources)}

    def cli_args(self, files: list[Path]) -> list[str]:
        """rclpy ``Node(cli_args=...)`` for this instance, given its parameter file paths."""
        args = ["--ros-args"]
        if self.node_name:
            args += ["-r", f"__node:={self.node_name}"]
        args += ["-r", f"__ns:={self.namespace}"]
        for path in files:
            args += ["--params-file", str(path)]
        for src, dst in self.remaps:
            args += ["-r", f"{src}:={dst}"]
        return args


@dataclass
class ProcessSpec:
    """One process to start: a ROS node, a plain executable, or a node container."""

    kind: str                              # "node" | "executable" | "container"
    name: str                              # unique display name: output prefix and [launch] lines
    argv: list[str]                        # resolved executable path and its own arguments
    node_name: str | None = None
    namespace: str | None = None           # None for plain executables
    default_params: dict[str, Any] = field(default_factory=dict)   # use_sim_time, set_parameter
    param_sources: list[ParamSource] = field(default_factory=list)
    remaps: list[tuple[str, str]] = field(default_factory=list)
    ros_args: list[str] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)   # launch-prefix, e.g. ["nice", "-n", "5"]
    env: dict[str, str | None] = field(default_factory=dict)  # overrides; None = unset
    cwd: str | None = None
    output: str = "screen"                 # screen | log | both
    respawn: RespawnPolicy = field(default_factory=RespawnPolicy)
    on_exit_shutdown: bool = False         # ROS "required": its exit ends the launch
    sigterm_timeout: float = 3.0
    sigkill_timeout: float = 1.0
    start_delay: float = 0.0               # from enclosing timers
    composable_nodes: list[ComposableNodeSpec] = field(default_factory=list)
    origin: str = ""

    @property
    def fqn(self) -> str | None:
        """Fully qualified node name, or None (plain executable, or a node without a name)."""
        if self.node_name is None or self.namespace is None:
            return None
        return join_fqn(self.namespace, self.node_name)

    @property
    def params(self) -> dict[str, Any]:
        """The inline parameters (defaults, set_parameter, the node's own), merged; files not included."""
        return {**self.default_params, **merged_params(self.param_sources)}

    @property
    def param_files(self) -> list[Path]:
        """The user parameter files (``param: [{from: ...}]``), in order."""
        return [src for src in self.param_sources if isinstance(src, Path)]

    @property
    def cmd(self) -> list[str]:
        """The command line, with ``<params_dir>`` for the runner's temp directory."""
        return self.command(PLACEHOLDER_DIR)

    def command(self, params_dir: Path) -> list[str]:
        """The command line when the inline parameter files live in ``params_dir``."""
        cmd = [*self.prefix, *self.argv]
        if self.kind == "container":
            cmd += ["--spec", str(self._spec_path(params_dir))]
        if self.namespace is None:
            return cmd
        cmd.append("--ros-args")
        if self.node_name:
            cmd += ["-r", f"__node:={self.node_name}"]
        cmd += ["-r", f"__ns:={self.namespace}"]
        for path in _param_paths(params_dir, self.param_sources, self._file_stem()):
            cmd += ["--params-file", str(path)]
        for src, dst in self.remaps:
            cmd += ["-r", f"{src}:={dst}"]
        return cmd + self.ros_args

    def write_files(self, params_dir: Path) -> None:
        """Write the inline parameter files (and a container's node spec) into ``params_dir``."""
        if self.namespace is not None:
            _write_params(params_dir, self.default_params, self.param_sources, self._file_stem(), self.fqn)
        if self.kind != "container":
            return
        nodes = []
        for index, node in enumerate(self.composable_nodes):
            stem = f"{self._file_stem()}.n{index}"
            _write_params(params_dir, node.default_params, node.param_sources, stem, node.fqn)
            files = _param_paths(params_dir, node.param_sources, stem)
            nodes.append({"plugin": node.plugin, "target": node.target, "name": node.node_name,
                          "namespace": node.namespace, "fqn": node.fqn, "cli_args": node.cli_args(files),
                          "extra_args": node.extra_args})
        spec = {"container": self.fqn, "nodes": nodes}
        self._spec_path(params_dir).write_text(json.dumps(spec, indent=2))

    def _file_stem(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)

    def _spec_path(self, params_dir: Path) -> Path:
        return params_dir / f"{self._file_stem()}.spec.json"



def _param_paths(params_dir: Path, sources: list[ParamSource] | tuple[ParamSource, ...], stem: str) -> list[Path]:
    """The ``--params-file`` paths in order: the defaults file, then the node's own sources."""
    paths = [params_dir / f"{stem}.p0.yaml"]
    for index, src in enumerate(sources, start=1):
        if isinstance(src, Path):
            paths.append(src)
        elif src:
            paths.append(params_dir / f"{stem}.p{index}.yaml")
    return paths


def _write_params(params_dir: Path, defaults: dict[str, Any], sources: list[ParamSource] | tuple[ParamSource, ...],
                  stem: str, fqn: str | None) -> None:
    """Write the files ``_param_paths`` names (see the module docstring for the keys)."""
    def dump(key: str, values: dict[str, Any], path: Path) -> None:
        path.write_text(yaml.safe_dump({key: {"ros__parameters": values}}, default_flow_style=False,
                                       sort_keys=False))
    dump("/**", defaults, params_dir / f"{stem}.p0.yaml")
    for index, src in enumerate(sources, start=1):
        if isinstance(src, dict) and src:
            dump(fqn or "/**", src, params_dir / f"{stem}.p{index}.yaml")


def merged_params(sources: list[ParamSource] | tuple[ParamSource, ...]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for src in sources:
        if isinstance(src, dict):
            merged.update(src)
    return merged


def join_fqn(namespace: str, name: str) -> str:
    return f"{namespace.rstrip('/')}/{name}"


@dataclass(frozen=True)
class LogAction:
    """``log``: print a message (after ``delay`` s when inside a timer)."""

    message: str
    delay: float = 0.0


@dataclass(frozen=True)
class ShutdownAction:
    """``shutdown``: end the launch (after ``delay`` s when inside a timer)."""

    reason: str
    delay: float = 0.0


Action = Union[ProcessSpec, LogAction, ShutdownAction]


@dataclass
class LaunchPlan:
    """Everything a launch file asked for, in file order, fully evaluated and checked."""

    path: Path
    actions: list[Action]
    arguments: dict[str, str]   # the top-level launch arguments and their values

    @property
    def processes(self) -> list[ProcessSpec]:
        return [a for a in self.actions if isinstance(a, ProcessSpec)]

    def process(self, name: str) -> ProcessSpec:
        """The process with display name or fully qualified node name ``name``."""
        for spec in self.processes:
            if name in (spec.name, spec.fqn):
                return spec
        raise KeyError(f"no process {name!r} in the plan (have: {', '.join(p.name for p in self.processes)})")
