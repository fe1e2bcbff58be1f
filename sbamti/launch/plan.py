"""Evaluate a launch file into a ``LaunchPlan``: scopes, conditions, includes, nodes, containers.

Everything is resolved and checked here (substitutions, names, packages, executables, parameter
files, container targets, duplicate node names) so that a bad file fails before any process starts.

Scoping: a ``group`` (scoped by default) and an ``include`` get a copy of the scope (variables,
environment changes, pushed namespace, ``set_parameter``/``set_remap``); changes inside do not leak
out. An included file sees the including scope's variables, overridden by the include's ``arg``
list; its relative paths resolve against its own directory.
"""

from __future__ import annotations

import math
import os
import shlex
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sbamti.launch import packages
from sbamti.launch.model import (Action, ComposableNodeSpec, LaunchFileError, LaunchPlan, LogAction, ParamSource,
                                 ProcessSpec, RespawnPolicy, ShutdownAction)
from sbamti.launch.names import check_node_name, push_namespace
from sbamti.launch.params import check_param_file, check_param_name, typed_value
from sbamti.launch.schema import (ENTITIES, check_entities, declared_arguments, describe, entity_list, load_yaml,
                                  split_entity)
from sbamti.launch.substitutions import bool_text, evaluate, parse_bool
from sbamti.ros.plugins import PluginError, resolve_plugin

OUTPUTS = ("screen", "log", "both")
DEFAULT_SIGTERM_TIMEOUT_S = 3.0
DEFAULT_SIGKILL_TIMEOUT_S = 1.0
CONTAINER_PACKAGE = "sbamti"
CONTAINER_EXECUTABLE = "component_container"
_MISSING = object()


@dataclass
class Scope:
    """What entities see at one point of a launch file."""

    file: Path
    variables: dict[str, str] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)   # changes to the base environment
    namespace: str = "/"
    params: dict[str, Any] = field(default_factory=dict)       # set_parameter / set_use_sim_time
    remaps: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0                                         # enclosing timers

    def copy(self, *, forwarding: bool = True) -> Scope:
        return replace(self, variables=dict(self.variables) if forwarding else {}, env=dict(self.env),
                       params=dict(self.params), remaps=list(self.remaps))


class _Context:
    """The substitution context of a scope."""

    def __init__(self, scope: Scope, base_env: dict[str, str]) -> None:
        self.scope, self.base_env = scope, base_env

    def variable(self, name: str) -> str:
        try:
            return self.scope.variables[name]
        except KeyError:
            known = ", ".join(sorted(self.scope.variables)) or "none"
            raise LaunchFileError(f"undefined variable '$(var {name})' (defined here: {known})") from None

    def environment_variable(self, name: str) -> str | None:
        if name in self.scope.env:
            return self.scope.env[name]
        return self.base_env.get(name)

    def current_dirname(self) -> str:
        return str(self.scope.file.parent)

    def package_share(self, package: str) -> str:
        return str(packages.package_share(package))

    def package_prefix(self, package: str) -> str:
        return str(packages.package_prefix(package))


@dataclass
class _PendingLoad:
    target: str
    nodes: list[ComposableNodeSpec]
    file: Path
    entity: str
    chain: tuple[str, ...]


class _Evaluator:
    def __init__(self, root: Path, wall_time: bool) -> None:
        self.root = root
        self.wall_time = wall_time
        self.base_env = packages.base_environment()
        self.actions: list[Action] = []
        self.loads: list[_PendingLoad] = []
        self.node_names: dict[str, str] = {}   # fully qualified name → where it was declared
        self.arguments: dict[str, str] = {}    # the root file's declared arguments
        self.files: list[Path] = []            # the include stack
        self.chain: tuple[str, ...] = ()       # "file: entity" of each include, innermost first

    # -- walking -----------------------------------------------------------------------------------
    def run_file(self, items: list[Any], scope: Scope) -> None:
        self.files.append(scope.file.resolve())
        try:
            self.entities(items, scope, "launch")
        finally:
            self.files.pop()

    def entities(self, items: list[Any], scope: Scope, position: str) -> None:
        for index, item in enumerate(items):
            where = f"{position}[{index}]"
            kind, attrs = split_entity(item, where)
            desc = describe(where, kind, attrs, item)
            try:
                if self.condition(attrs, scope):
                    getattr(self, f"do_{kind}")(attrs, scope, where, desc)
            except LaunchFileError as exc:
                raise exc.located(scope.file, desc, self.chain) from None

    def condition(self, attrs: dict, scope: Scope) -> bool:
        result = True
        for key in ("if", "unless"):
            if key in attrs:
                value = parse_bool(self.text(attrs, key, scope), f"attribute {key!r}")
                result = result and (value if key == "if" else not value)
        return result

    # -- attribute helpers -------------------------------------------------------------------------
    def evaluator(self, scope: Scope, key: str) -> Callable[[str], str]:
        def run(raw: str) -> str:
            try:
                return evaluate(raw, _Context(scope, self.base_env))
            except LaunchFileError as exc:
                raise LaunchFileError(f"attribute {key!r}: {exc.problem}") from None
        return run

    def text(self, attrs: dict, key: str, scope: Scope, default: Any = _MISSING) -> str:
        raw = attrs.get(key, _MISSING)
        if raw is _MISSING:
            if default is _MISSING:
                raise LaunchFileError(f"missing required attribute {key!r}")
            return default
        if isinstance(raw, bool):
            return bool_text(raw)
        return self.evaluator(scope, key)(str(raw))

    def words(self, attrs: dict, key: str, scope: Scope) -> list[str]:
        """A command-line-like attribute: a string split like a shell would, or a list of words."""
        raw = attrs.get(key)
        if raw is None:
            return []
        run = self.evaluator(scope, key)
        if isinstance(raw, list):
            return [run(str(word)) for word in raw]
        try:
            return shlex.split(run(str(raw)))
        except ValueError as exc:
            raise LaunchFileError(f"attribute {key!r}: cannot split {raw!r} into words ({exc})") from None

    def flag(self, attrs: dict, key: str, scope: Scope, default: bool) -> bool:
        if key not in attrs:
            return default
        return parse_bool(self.text(attrs, key, scope), f"attribute {key!r}")

    def number(self, attrs: dict, key: str, scope: Scope, default: float, minimum: float,
               kind: type = float) -> Any:
        if key not in attrs:
            return default
        raw = attrs[key]
        text = raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else self.text(attrs, key, scope)
        try:
            value = float(text)
            if not math.isfinite(value) or (kind is int and not value.is_integer()):
                raise ValueError
            value = kind(value)
        except (TypeError, ValueError):
            raise LaunchFileError(f"attribute {key!r}: expected {'an integer' if kind is int else 'a finite number'}, "
                                  f"got {raw!r}") from None
        if value < minimum:
            raise LaunchFileError(f"attribute {key!r} must be >= {minimum:g}, got {value!r}")
        return value

    # -- variables and scopes ----------------------------------------------------------------------
    def do_arg(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        name = self.text(attrs, "name", scope)
        if name in scope.variables:
            value = scope.variables[name]
        elif "default" in attrs:
            value = self.text(attrs, "default", scope)
        else:
            raise LaunchFileError(f"argument {name!r} has no default and was not given "
                                  f"(pass {name}:=<value> on the command line or in the include's arg list)")
        choices = [self.text(choice, "value", scope) for choice in attrs.get("choice") or []]
        if choices and value not in choices:
            raise LaunchFileError(f"argument {name!r} = {value!r} is not one of the choices: {', '.join(choices)}")
        scope.variables[name] = value
        if scope.file == self.root and len(self.files) == 1:
            self.arguments[name] = value

    def do_let(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.variables[self.text(attrs, "name", scope)] = self.text(attrs, "value", scope)

    def do_group(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scoped = self.flag(attrs, "scoped", scope, True)
        forwarding = self.flag(attrs, "forwarding", scope, True)
        if not scoped and not forwarding:
            raise LaunchFileError("'forwarding: false' needs 'scoped: true'")
        inner = scope.copy(forwarding=forwarding) if scoped else scope
        if "namespace" in attrs:
            inner.namespace = push_namespace(inner.namespace, self.text(attrs, "namespace", scope))
        self.entities(attrs.get("children") or [], inner, f"{where}.group.children")

    def do_timer(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        inner = scope.copy()
        inner.delay += self.number(attrs, "period", scope, 0.0, 0.0)
        self.entities(attrs.get("children") or [], inner, f"{where}.timer.children")

    def do_include(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        text = self.text(attrs, "file", scope)
        path = Path(text) if os.path.isabs(text) else scope.file.parent / text
        if not path.is_file():
            raise LaunchFileError(f"include file not found: {path}")
        if path.suffix not in (".yaml", ".yml"):
            raise LaunchFileError(f"only YAML launch files can be included, got {path.name!r}")
        if path.resolve() in self.files:
            cycle = " -> ".join(str(f) for f in [*self.files, path.resolve()])
            raise LaunchFileError(f"include cycle: {cycle}")
        include_args = {self.text(a, "name", scope): self.text(a, "value", scope) for a in attrs.get("arg") or []}
        inner_chain = (f"{scope.file}: {desc}", *self.chain)
        items = _checked_entities(path, inner_chain)
        declared = declared_arguments(items)
        for name in include_args:
            if name not in declared:
                raise LaunchFileError(f"include arg {name!r} is not declared by {path.name} "
                                      f"(declared: {', '.join(sorted(declared)) or 'none'})")
        inner = scope.copy()
        inner.file = path
        inner.variables.update(include_args)
        outer_chain, self.chain = self.chain, inner_chain
        try:
            self.run_file(items, inner)
        finally:
            self.chain = outer_chain

    def do_push_ros_namespace(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.namespace = push_namespace(scope.namespace, self.text(attrs, "namespace", scope))

    # -- environment ---------------------------------------------------------------------------------
    def do_set_env(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.env[self.text(attrs, "name", scope)] = self.text(attrs, "value", scope)

    def do_append_env(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        name, value = self.text(attrs, "name", scope), self.text(attrs, "value", scope)
        separator = self.text(attrs, "separator", scope, os.pathsep)
        current = _Context(scope, self.base_env).environment_variable(name)
        if not current:
            scope.env[name] = value
        elif self.flag(attrs, "prepend", scope, False):
            scope.env[name] = f"{value}{separator}{current}"
        else:
            scope.env[name] = f"{current}{separator}{value}"

    def do_unset_env(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.env[self.text(attrs, "name", scope)] = None

    # -- ROS settings for the nodes in scope ---------------------------------------------------------
    def do_set_parameter(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        name = check_param_name(self.text(attrs, "name", scope))
        scope.params[name] = typed_value(attrs["value"], self.evaluator(scope, "value"), name)

    def do_set_use_sim_time(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.params["use_sim_time"] = parse_bool(self.text(attrs, "value", scope), "attribute 'value'")

    def do_set_remap(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        scope.remaps.append(self.remap(attrs, scope))

    def remap(self, attrs: dict, scope: Scope) -> tuple[str, str]:
        src, dst = self.text(attrs, "from", scope), self.text(attrs, "to", scope)
        if not src or not dst:
            raise LaunchFileError(f"remap needs non-empty 'from' and 'to', got {src!r} -> {dst!r}")
        return src, dst

    # -- simple actions ------------------------------------------------------------------------------
    def do_log(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        self.actions.append(LogAction(self.text(attrs, "message", scope), scope.delay))

    def do_shutdown(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        self.actions.append(ShutdownAction(self.text(attrs, "reason", scope, "shutdown action"), scope.delay))

    # -- processes -----------------------------------------------------------------------------------
    def do_executable(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        words = self.words(attrs, "cmd", scope)
        if not words:
            raise LaunchFileError("attribute 'cmd' is empty")
        settings = self.process_settings(attrs, scope)
        program = packages.find_command(words[0], self.search_path(settings["env"]), settings["cwd"])
        name = self.text(attrs, "name", scope, Path(words[0]).name)
        argv = [str(program), *words[1:], *self.words(attrs, "args", scope)]
        self.actions.append(ProcessSpec(kind="executable", name=name, argv=argv, origin=desc, **settings))

    def do_node(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        executable = self.text(attrs, "exec", scope)
        package = self.text(attrs, "pkg", scope, None)
        settings = self.process_settings(attrs, scope)
        if package:
            program = packages.node_executable(package, executable)
        else:
            program = packages.find_command(executable, self.search_path(settings["env"]), settings["cwd"])
        spec = self.ros_process("node", attrs, scope, desc, [str(program), *self.words(attrs, "args", scope)],
                                settings, default_name=Path(executable).name)
        self.actions.append(spec)

    def do_node_container(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        package = self.text(attrs, "pkg", scope, CONTAINER_PACKAGE)
        program = packages.node_executable(package, self.text(attrs, "exec", scope, CONTAINER_EXECUTABLE))
        settings = self.process_settings(attrs, scope)
        spec = self.ros_process("container", attrs, scope, desc, [str(program), *self.words(attrs, "args", scope)],
                                settings, default_name="")
        spec.composable_nodes = self.composable_nodes(attrs, scope, desc)
        self.actions.append(spec)

    def do_load_composable_node(self, attrs: dict, scope: Scope, where: str, desc: str) -> None:
        target = self.text(attrs, "target", scope)
        if not target.startswith("/"):
            target = f"{scope.namespace.rstrip('/')}/{target}"
        self.loads.append(_PendingLoad(target, self.composable_nodes(attrs, scope, desc), scope.file, desc,
                                       self.chain))

    def ros_process(self, kind: str, attrs: dict, scope: Scope, desc: str, argv: list[str], settings: dict,
                    default_name: str) -> ProcessSpec:
        node_name = self.text(attrs, "name", scope, None)
        if node_name is not None:
            check_node_name(node_name)
        namespace = push_namespace(scope.namespace, self.text(attrs, "namespace", scope, ""))
        spec = ProcessSpec(kind=kind, name=node_name or default_name, argv=argv, node_name=node_name,
                           namespace=namespace, default_params=self.default_params(scope),
                           param_sources=self.param_sources(attrs, scope),
                           remaps=[*scope.remaps, *(self.remap(r, scope) for r in attrs.get("remap") or [])],
                           ros_args=self.words(attrs, "ros_args", scope), origin=desc, **settings)
        if spec.fqn:
            self.claim(spec.fqn, desc)
        return spec

    def composable_nodes(self, attrs: dict, scope: Scope, desc: str) -> list[ComposableNodeSpec]:
        nodes = []
        for index, item in enumerate(attrs.get("composable_node") or []):
            label = f"composable_node[{index}]"
            try:
                if not self.condition(item, scope):
                    continue
                packages.package_prefix(self.text(item, "pkg", scope))
                plugin = self.text(item, "plugin", scope)
                python_path = _Context(scope, self.base_env).environment_variable("PYTHONPATH") or ""
                try:
                    target = resolve_plugin(plugin, [p for p in python_path.split(os.pathsep) if p])
                except PluginError as exc:
                    raise LaunchFileError(str(exc)) from None
                node_name = self.text(item, "name", scope, None)
                if node_name is not None:
                    check_node_name(node_name)
                extra = {}
                for arg in item.get("extra_arg") or []:
                    arg_name = self.text(arg, "name", scope)
                    extra[arg_name] = typed_value(arg["value"], self.evaluator(scope, "value"), arg_name)
                node = ComposableNodeSpec(
                    plugin=plugin, target=target, node_name=node_name,
                    namespace=push_namespace(scope.namespace, self.text(item, "namespace", scope, "")),
                    default_params=self.default_params(scope), param_sources=tuple(self.param_sources(item, scope)),
                    remaps=tuple([*scope.remaps, *(self.remap(r, scope) for r in item.get("remap") or [])]),
                    extra_args=extra, origin=f"{desc} {label}")
            except LaunchFileError as exc:
                raise LaunchFileError(f"{label}: {exc.problem}") from None
            if node.fqn:
                self.claim(node.fqn, node.origin)
            nodes.append(node)
        return nodes

    def claim(self, fqn: str, origin: str) -> None:
        if fqn in self.node_names:
            raise LaunchFileError(f"duplicate node name {fqn!r} (also used by {self.node_names[fqn]})")
        self.node_names[fqn] = origin

    def default_params(self, scope: Scope) -> dict[str, Any]:
        """``use_sim_time: true`` (unless wall time) and the ``set_parameter`` values in scope."""
        return {**({} if self.wall_time else {"use_sim_time": True}), **scope.params}

    def param_sources(self, attrs: dict, scope: Scope) -> list[ParamSource]:
        """The entity's own parameter list in order: inline groups and ``from:`` files."""
        sources: list[ParamSource] = []
        inline: dict[str, Any] = {}
        for item in attrs.get("param") or []:
            if "from" in item:
                if inline:
                    sources.append(inline)
                    inline = {}
                text = self.text(item, "from", scope)
                path = Path(text) if os.path.isabs(text) else scope.file.parent / text
                sources.append(check_param_file(path))
            else:
                self.inline_param(item, scope, "", inline)
        if inline:
            sources.append(inline)
        return sources

    def inline_param(self, item: dict, scope: Scope, prefix: str, into: dict[str, Any]) -> None:
        name = check_param_name(prefix + self.text(item, "name", scope))
        if "param" in item:
            for child in item["param"]:
                if "from" in child:
                    raise LaunchFileError(f"parameter group {name!r}: 'from' files cannot be nested")
                self.inline_param(child, scope, name + ".", into)
        else:
            into[name] = typed_value(item["value"], self.evaluator(scope, "value"), name)

    def process_settings(self, attrs: dict, scope: Scope) -> dict[str, Any]:
        output = self.text(attrs, "output", scope, "screen")
        if output not in OUTPUTS:
            raise LaunchFileError(f"attribute 'output': expected one of {', '.join(OUTPUTS)}, got {output!r}")
        on_exit = self.text(attrs, "on_exit", scope, "")
        if on_exit not in ("", "shutdown"):
            raise LaunchFileError(f"attribute 'on_exit': only 'shutdown' is supported, got {on_exit!r}")
        respawn = RespawnPolicy(self.flag(attrs, "respawn", scope, False),
                                self.number(attrs, "respawn_delay", scope, 0.0, 0.0),
                                self.number(attrs, "respawn_max_retries", scope, -1, -1, kind=int))
        if respawn.enabled and on_exit:
            raise LaunchFileError("'respawn: true' and 'on_exit: shutdown' contradict each other "
                                  "(a required process ends the launch when it exits)")
        env = dict(scope.env)
        for item in attrs.get("env") or []:
            env[self.text(item, "name", scope)] = self.text(item, "value", scope)
        cwd = self.text(attrs, "cwd", scope, None)
        if cwd is not None and not Path(cwd).is_dir():
            raise LaunchFileError(f"attribute 'cwd': directory not found: {cwd}")
        return {"output": output, "on_exit_shutdown": bool(on_exit), "respawn": respawn, "env": env, "cwd": cwd,
                "sigterm_timeout": self.number(attrs, "sigterm_timeout", scope, DEFAULT_SIGTERM_TIMEOUT_S, 0.0),
                "sigkill_timeout": self.number(attrs, "sigkill_timeout", scope, DEFAULT_SIGKILL_TIMEOUT_S, 0.0),
                "prefix": self.words(attrs, "launch-prefix", scope), "start_delay": scope.delay}

    def search_path(self, env: dict[str, str | None]) -> str | None:
        return env["PATH"] if "PATH" in env else self.base_env.get("PATH")

    # -- after the walk ------------------------------------------------------------------------------
    def finish(self) -> None:
        containers = {p.fqn: p for p in self.actions if isinstance(p, ProcessSpec) and p.kind == "container"}
        for load in self.loads:
            container = containers.get(load.target)
            if container is None:
                known = ", ".join(sorted(c for c in containers if c)) or "none"
                raise LaunchFileError(f"target container {load.target!r} not found (declared containers: {known})",
                                      path=load.file, entity=load.entity, included_from=load.chain)
            container.composable_nodes.extend(load.nodes)
        self.unique_display_names()

    def unique_display_names(self) -> None:
        """Output prefixes are unique: repeated names become ``name-1``, ``name-2``..."""
        processes = [p for p in self.actions if isinstance(p, ProcessSpec)]
        for spec in processes:
            spec.name = "_".join(spec.name.split()) or spec.kind
        counts = Counter(p.name for p in processes)
        seen: Counter[str] = Counter()
        for spec in processes:
            if counts[spec.name] > 1:
                seen[spec.name] += 1
                spec.name = f"{spec.name}-{seen[spec.name]}"


def _checked_entities(path: Path, chain: tuple[str, ...] = ()) -> list[Any]:
    """The entity list of ``path``, structurally checked against the schema."""
    try:
        items = entity_list(load_yaml(path))
        check_entities(items, "launch")
    except LaunchFileError as exc:
        raise exc.located(path, None, chain) from None
    return items


def declared_args(path: str | os.PathLike) -> dict[str, dict]:
    """The ``arg`` declarations of a launch file (name → raw attributes), for ``--show-args``."""
    return declared_arguments(_checked_entities(Path(path)))


def load_launch_file(path: str | os.PathLike, args: dict[str, str] | None = None, *,
                     wall_time: bool = False) -> LaunchPlan:
    """Read, check and evaluate a launch file; raise ``LaunchFileError`` on any problem.

    ``args`` are the command-line ``name:=value`` overrides of the file's top-level ``arg``
    defaults. ``wall_time`` drops the default ``use_sim_time: true`` of every node.
    """
    root = Path(path).absolute()
    items = _checked_entities(root)
    args = {str(k): str(v) for k, v in (args or {}).items()}
    declared = declared_arguments(items)
    unknown = [name for name in args if name not in declared]
    if unknown:
        raise LaunchFileError(f"unknown launch argument{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(map(repr, unknown))} (declared: {', '.join(sorted(declared)) or 'none'})",
                              path=root)
    evaluator = _Evaluator(root, wall_time)
    evaluator.run_file(items, Scope(file=root, variables=dict(args)))
    evaluator.finish()
    return LaunchPlan(path=root, actions=evaluator.actions, arguments=evaluator.arguments)


assert all(hasattr(_Evaluator, f"do_{kind}") for kind in ENTITIES), "every entity type needs a handler"
