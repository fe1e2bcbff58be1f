"""Launch files → plans, without starting anything: schema, substitutions, scoping, errors."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from sbamti.launch import LaunchFileError, LogAction, load_launch_file
from sbamti.launch import cli
from sbamti.launch.substitutions import evaluate, parse_bool

FILES = Path(__file__).parent / "launch_files"
BAD = FILES / "bad"
VENV_LIB = Path(os.sys.prefix) / "lib" / "sbamti"


def write(tmp_path: Path, text: str, name: str = "t.launch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- substitutions ---------------------------------------------------------------------------------

class FakeContext:
    def __init__(self, variables=None, env=None):
        self.variables = variables or {}
        self.env = env or {}

    def variable(self, name):
        if name not in self.variables:
            raise LaunchFileError(f"undefined variable {name!r}")
        return self.variables[name]

    def environment_variable(self, name):
        return self.env.get(name)

    def current_dirname(self):
        return "/launch/dir"

    def package_share(self, package):
        return f"/share/{package}"

    def package_prefix(self, package):
        return f"/prefix/{package}"


@pytest.mark.parametrize("text, expected", [
    ("plain text", "plain text"),
    ("rate=$(var rate)Hz", "rate=2.5Hz"),
    ("$(var ns)/$(var name)", "sat1/clock"),
    ("$(env HOME_X)", "/home/x"),
    ("$(env MISSING fallback)", "fallback"),
    ("$(env MISSING 'two words')", "two words"),
    ("$(env MISSING '')", ""),
    ("$(eval $(var rate) * 2)", "5.0"),
    ("$(eval max(1, 2) * 3)", "6"),
    ("$(eval math.floor(pi * 100) + sqrt(16))", str(math.floor(math.pi * 100) + 4.0)),
    ("$(eval '$(var name)' == 'clock')", "True"),
    ("$(if $(var on) yes no)", "yes"),
    ("$(if $(var off) yes no)", "no"),
    ("$(if $(var off) yes)", ""),
    ("$(not $(var on))", "false"),
    ("$(and $(var on) 1 TRUE)", "true"),
    ("$(and $(var on) $(var off))", "false"),
    ("$(or $(var off) 0 1)", "true"),
    ("$(equals $(var rate) 2.50)", "true"),
    ("$(equals True true)", "true"),
    ("$(equals sat1 sat2)", "false"),
    ("$(dirname)/x.yaml", "/launch/dir/x.yaml"),
    ("$(find-pkg-share sbamti)/config", "/share/sbamti/config"),
])
def test_substitution_values(text, expected):
    ctx = FakeContext({"rate": "2.5", "ns": "sat1", "name": "clock", "on": "true", "off": "False"},
                      {"HOME_X": "/home/x"})
    assert evaluate(text, ctx) == expected


def test_if_evaluates_only_the_branch_it_takes():
    # The untaken branch names an undefined variable; evaluating it would raise.
    assert evaluate("$(if true ok $(var undefined))", FakeContext()) == "ok"


@pytest.mark.parametrize("text, problem", [
    ("$(var x", "unterminated '$('"),
    ("$(eval 'abc)", "unterminated quote '"),
    ("$(frobnicate x)", "unknown substitution '$(frobnicate ...)'"),
    ("$(var)", "'$(var)' takes 1 argument, got 0"),
    ("$(env A B C)", "'$(env)' takes 1 to 2 arguments, got 3"),
    ("$(env NOT_SET_ANYWHERE)", "environment variable 'NOT_SET_ANYWHERE' is not set"),
    ("$(if maybe a b)", "$(if) condition: expected a boolean"),
    ("$(eval 1 +)", "invalid Python expression"),
    ("$(eval ().__class__)", "name '__class__' is not allowed"),
    ("$(eval open('/etc/passwd'))", "NameError"),
    ("$(eval 1 / 0)", "ZeroDivisionError"),
    ("$()", "missing substitution name"),
])
def test_substitution_errors(text, problem):
    with pytest.raises(LaunchFileError) as err:
        evaluate(text, FakeContext())
    assert problem in str(err.value)


@pytest.mark.parametrize("text, value", [("true", True), ("TRUE", True), ("1", True), ("False", False),
                                         ("0", False), (True, True), (0, False)])
def test_parse_bool(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "2", "", "on"])
def test_parse_bool_rejects(text):
    with pytest.raises(LaunchFileError, match="expected a boolean"):
        parse_bool(text, "attribute 'if'")


# -- a file using most of the schema ---------------------------------------------------------------

def test_features_plan_defaults():
    plan = load_launch_file(FILES / "features.launch.yaml")
    assert plan.arguments == {"sats": "2", "mode": "fast", "debug": "false"}
    assert [p.name for p in plan.processes] == ["clock-1", "clock-2", "worker-1", "worker-2", "late"]
    assert [a.message for a in plan.actions if isinstance(a, LogAction)] == ["mode=fast sats=2"]

    sat = plan.process("/sat1/clock")
    assert sat.kind == "node" and sat.fqn == "/sat1/clock" and sat.namespace == "/sat1"
    assert sat.cmd == [
        str(VENV_LIB / "sim_clock"), "--extra", "two words", "--ros-args",
        "-r", "__node:=clock", "-r", "__ns:=/sat1",
        "--params-file", "<params_dir>/clock-1.p0.yaml",            # defaults + set_parameter
        "--params-file", "<params_dir>/clock-1.p1.yaml",            # params before the `from:` file
        "--params-file", str(FILES / "params" / "clock.yaml"),
        "--params-file", "<params_dir>/clock-1.p3.yaml",            # params after it (later wins)
        "-r", "status_in:=/status", "-r", "clock:=/sim/clock"]      # set_remap in scope, then the node's
    assert sat.params == {"use_sim_time": False, "shared_gain": 1.5, "rate": 2, "step_s": 0.25,
                          "start_epoch": "2028-01-01T00:00:00Z", "flags": [True, False], "gains": [1.0, 2.5],
                          "filter.order": 3, "filter.window.size_s": 0.5}
    assert type(sat.params["rate"]) is int and type(sat.params["step_s"]) is float
    assert sat.env == {"SBAMTI_TEST_TOP": "top", "SBAMTI_TEST_INNER": "inner", "SBAMTI_NODE_ONLY": "1"}
    assert (sat.respawn.enabled, sat.respawn.delay_s, sat.respawn.max_retries) == (True, 0.5, 3)
    assert not sat.on_exit_shutdown

    ground = plan.process("clock-2")
    assert ground.fqn == "/ground/station/clock"
    # Nothing set inside the scoped group leaked: env, remaps, set_use_sim_time.
    assert ground.env == {"SBAMTI_TEST_TOP": "top"}
    assert ground.remaps == []
    assert ground.params == {"use_sim_time": True, "shared_gain": 1.5}
    assert ground.on_exit_shutdown and ground.sigterm_timeout == 2.0 and ground.sigkill_timeout == 1.0
    assert ground.cmd[-2:] == ["--log-level", "warn"]

    worker = plan.process("worker-1")
    assert worker.kind == "executable" and worker.fqn is None
    assert worker.argv == [str(Path(os.sys.prefix) / "bin" / "python3"), "-c", "print(4)"]   # $(eval 2 * 2)
    late = plan.process("late")
    assert late.start_delay == 1.5 and late.cwd == str(FILES)


def test_features_plan_with_command_line_args():
    plan = load_launch_file(FILES / "features.launch.yaml", {"debug": "TRUE", "mode": "slow", "sats": "5"})
    assert plan.arguments == {"sats": "5", "mode": "slow", "debug": "TRUE"}
    assert plan.process("clock-2").fqn == "/ground/debug/clock"
    # mode=slow drops worker-1, debug drops the `unless` worker and enables `never`.
    assert [p.name for p in plan.processes] == ["clock-1", "clock-2", "never", "late"]


def test_wall_time_drops_the_use_sim_time_default():
    plan = load_launch_file(FILES / "features.launch.yaml", wall_time=True)
    assert "use_sim_time" not in plan.process("clock-2").params
    assert plan.process("clock-2").cmd.count("--params-file") == 1     # shared_gain only
    assert plan.process("/sat1/clock").params["use_sim_time"] is False  # set_use_sim_time still applies


def test_include_args_scope_and_namespace():
    plan = load_launch_file(FILES / "include_parent.launch.yaml")
    assert [(p.fqn, p.params.get("rate"), p.env) for p in plan.processes] == [
        ("/fleet/a/clock", 1.0, {"SBAMTI_CHILD_ENV": "a"}),
        ("/fleet/b/clock", 4.0, {"SBAMTI_CHILD_ENV": "b"}),
        ("/fleet/top", None, {}),     # the includes' namespace and env did not leak out
    ]
    assert plan.arguments == {}


def test_container_plan():
    plan = load_launch_file(FILES / "clock_container.launch.yaml", {"rate": "3"})
    (box,) = plan.processes
    assert box.kind == "container" and box.fqn == "/sim/clocks"
    assert box.cmd[:3] == [str(VENV_LIB / "component_container"), "--spec", "<params_dir>/clocks.spec.json"]
    assert [(n.fqn, n.target, n.params) for n in box.composable_nodes] == [
        ("/sat1/clock", "sbamti_nodes.sim_clock:SimClockNode", {"use_sim_time": True, "rate": 3}),
        ("/sat2/clock", "sbamti_nodes.sim_clock:SimClockNode", {"use_sim_time": True, "rate": 3}),
        ("/sat3/clock", "sbamti_nodes.sim_clock:SimClockNode", {"use_sim_time": True, "rate": 6}),
    ]


def test_container_spec_file(tmp_path):
    import json
    plan = load_launch_file(FILES / "clock_container.launch.yaml")
    (box,) = plan.processes
    box.write_files(tmp_path)
    spec = json.loads((tmp_path / "clocks.spec.json").read_text())
    sat2 = spec["nodes"][1]
    assert sat2["fqn"] == "/sat2/clock"
    assert sat2["cli_args"][:5] == ["--ros-args", "-r", "__node:=clock", "-r", "__ns:=/sat2"]
    files = [sat2["cli_args"][i + 1] for i, a in enumerate(sat2["cli_args"]) if a == "--params-file"]
    # Defaults under /** first; the node's own values keyed by its name (see sbamti.launch.model).
    assert [Path(f).read_text() for f in files] == [
        "/**:\n  ros__parameters:\n    use_sim_time: true\n",
        "/sat2/clock:\n  ros__parameters:\n    rate: 10.0\n"]


# -- scoping rules, each on a small file ------------------------------------------------------------

def test_scoped_group_variables_do_not_leak(tmp_path):
    path = write(tmp_path, """
launch:
  - group: [{let: {name: inner, value: x}}]
  - log: {message: "$(var inner)"}
""")
    with pytest.raises(LaunchFileError, match=r"launch\[1\]\.log .*undefined variable '\$\(var inner\)'"):
        load_launch_file(path)


def test_unscoped_group_leaks_and_forwarding_false_hides(tmp_path):
    path = write(tmp_path, """
launch:
  - let: {name: outer, value: o}
  - group: {scoped: false, children: [{let: {name: inner, value: i}}, {push_ros_namespace: {namespace: ns}}]}
  - log: {message: "$(var inner)$(var outer)"}
  - executable: {cmd: "true", name: probe}
  - group: {forwarding: false, children: [{log: {message: "$(var outer)"}}]}
""")
    with pytest.raises(LaunchFileError, match=r"launch\[4\]\.group\.children\[0\]\.log .*'\$\(var outer\)'"):
        load_launch_file(path)
    path.write_text(path.read_text().rsplit("  - group: {forwarding", 1)[0])
    plan = load_launch_file(path)
    assert plan.actions[0] == LogAction("io")


def test_append_and_unset_env(tmp_path):
    path = write(tmp_path, """
launch:
  - set_env: {name: SBAMTI_X, value: a}
  - append_env: {name: SBAMTI_X, value: b}
  - append_env: {name: SBAMTI_X, value: z, prepend: true, separator: ","}
  - unset_env: {name: SBAMTI_GONE}
  - executable: {cmd: "true", name: probe, env: [{name: SBAMTI_Y, value: "$(env SBAMTI_X)"}]}
""")
    probe = load_launch_file(path).process("probe")
    assert probe.env == {"SBAMTI_X": f"z,a{os.pathsep}b", "SBAMTI_GONE": None, "SBAMTI_Y": f"z,a{os.pathsep}b"}


def test_absolute_node_namespace_ignores_pushed_namespace(tmp_path):
    path = write(tmp_path, """
launch:
  - push_ros_namespace: {namespace: outer}
  - node: {pkg: sbamti, exec: sim_clock, name: a, namespace: /abs}
  - node: {pkg: sbamti, exec: sim_clock, name: b, namespace: rel/deeper}
  - node: {pkg: sbamti, exec: sim_clock}
""")
    plan = load_launch_file(path)
    assert [p.fqn for p in plan.processes] == ["/abs/a", "/outer/rel/deeper/b", None]
    assert plan.processes[2].name == "sim_clock" and "__node:=" not in " ".join(plan.processes[2].cmd)


def test_param_value_from_substitution_is_typed(tmp_path):
    path = write(tmp_path, """
launch:
  - arg: {name: n, default: "3"}
  - node:
      pkg: sbamti
      exec: sim_clock
      name: clock
      param:
        - {name: as_int, value: "$(var n)"}
        - {name: as_float, value: "$(eval $(var n) / 2)"}
        - {name: as_bool, value: "$(equals $(var n) 3)"}
        - {name: as_text, value: "sat$(var n)"}
        - {name: quoted_number_stays_text, value: "3"}
        - {name: as_list, value: ["$(var n)", 4]}
""")
    params = load_launch_file(path).process("clock").params
    assert params == {"use_sim_time": True, "as_int": 3, "as_float": 1.5, "as_bool": True, "as_text": "sat3",
                      "quoted_number_stays_text": "3", "as_list": [3, 4]}


def test_load_composable_node_relative_target_and_plugin_on_pythonpath(tmp_path):
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "my_plugin_mod.py").write_text("class Thing: pass\n")
    path = write(tmp_path, f"""
launch:
  - set_env: {{name: PYTHONPATH, value: {plugin_dir}}}
  - push_ros_namespace: {{namespace: ground}}
  - node_container: {{name: box}}
  - load_composable_node:
      target: box
      composable_node: [{{pkg: sbamti, plugin: "my_plugin_mod:Thing", name: thing}}]
""")
    (box,) = load_launch_file(path).processes
    assert [(n.fqn, n.target) for n in box.composable_nodes] == [("/ground/thing", "my_plugin_mod:Thing")]


def test_timer_and_shutdown_actions(tmp_path):
    path = write(tmp_path, """
launch:
  - timer: {period: 2, children: [{timer: {period: 0.5, children: [{shutdown: {reason: done}}]}}]}
""")
    (action,) = load_launch_file(path).actions
    assert (action.reason, action.delay) == ("done", 2.5)


# -- malformed files ---------------------------------------------------------------------------------

# file → text the message must contain: the entity (position and name) and the problem.
BAD_FILES = {
    "yaml_syntax": ["YAML syntax error at line 4"],
    "root_not_launch": ["root must be a mapping with the single key 'launch:'", "got keys 'nodes'"],
    "root_not_list": ["'launch:' must hold a list of entities, got a mapping"],
    "entity_two_keys": ["launch[1] (line 3)", "one-key mapping", "keys 'node', 'arg'"],
    "unknown_entity": ["launch[0] (line 2)", "unknown entity type 'nodes'", "expected one of: append_env, arg"],
    "unknown_attribute": ["launch[1].node 'talker' (line 3)", "unknown attribute 'exe' for node",
                          "expected one of: args, cwd, env, exec, if"],
    "missing_exec": ["launch[0].node 'clock'", "missing required attribute 'exec'"],
    "undefined_var": ["launch[1].node 'clock' (line 4)", "attribute 'value'", "undefined variable '$(var rte)'",
                      "defined here: rate"],
    "unterminated_substitution": ["launch[1].node 'clock'", "attribute 'namespace'", "unterminated '$('"],
    "unknown_substitution": ["launch[0].log", "unknown substitution '$(environment ...)'"],
    "bad_if": ["launch[0].node 'clock'", "attribute 'if': expected a boolean (true/false/1/0), got 'maybe'"],
    "include_missing": ["launch[0].include (line 2)", "include file not found", "no_such_child.launch.yaml"],
    "package_not_found": ["launch[0].include", "package 'no_such_package' not found in the ament index"],
    "exec_not_found": ["launch[0].node 'ghost'", "executable 'no_such_node' not found in package 'sbamti'",
                       "available: component_container"],
    "command_not_found": ["launch[0].executable 'ghost'", "command 'no-such-command-sbamti' not found on PATH"],
    "param_file_missing": ["launch[0].node 'clock'", "parameter file not found", "no_such_params.yaml"],
    "param_file_not_ros": ["launch[0].node 'clock'", "not_ros_params.yaml is not a ROS parameter file",
                           "top-level key 'rate' has no 'ros__parameters'"],
    "respawn_not_bool": ["launch[0].node 'clock'", "attribute 'respawn': expected a boolean", "'sometimes'"],
    "negative_respawn_delay": ["launch[0].node 'clock'", "attribute 'respawn_delay' must be >= 0, got -1.5"],
    "bad_namespace": ["launch[0].group.children[0].push_ros_namespace (line 3)",
                      "invalid namespace 'fleet/1sat': segment '1sat'"],
    "bad_node_name": ["launch[0].node 'sim-clock'", "invalid node name 'sim-clock'"],
    "duplicate_node": ["launch[1].group.children[1].node 'clock' (line 5)", "duplicate node name '/sat1/clock'",
                       "also used by launch[0].node 'clock' (line 2)"],
    "eval_failure": ["launch[1].let 'period'", "$(eval 1.0 / 0) failed: ZeroDivisionError"],
    "choice_violation": ["launch[0].arg 'mode'", "argument 'mode' = 'medium' is not one of the choices: fast, slow"],
    "required_arg_missing": ["launch[0].arg 'sat'", "argument 'sat' has no default and was not given"],
    "duplicate_key": ["line 6: duplicate key 'name' (first at line 5)"],
    "unknown_plugin": ["launch[0].node_container 'box'", "composable_node[0]: unknown plugin 'sbamti::NoSuchNode'"],
    "unknown_container_target": ["launch[1].load_composable_node (line 4)",
                                 "target container '/boxx' not found (declared containers: /box)"],
    "respawn_and_required": ["launch[0].node 'clock'", "'respawn: true' and 'on_exit: shutdown' contradict"],
    "bad_output": ["launch[0].executable 'quiet'", "attribute 'output': expected one of screen, log, both",
                   "'screeen'"],
    "include_cycle": ["launch[0].include", "include cycle"],
    "include_unknown_arg": ["launch[0].include", "include arg 'satellite' is not declared by include_child.launch.yaml",
                            "declared: rate, sat"],
    "bad_param": ["launch[0].node 'clock'", "parameter 'gains': a list must hold one type, got int, str"],
    "error_in_include": ["broken_child.launch.yaml: launch[1].node 'clock' (line 4)", "unknown attribute 'namspace'",
                         "included from", "error_in_include.launch.yaml: launch[0].group.children[0].include"],
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_file_is_rejected_with_a_message_naming_it(name):
    path = BAD / f"{name}.launch.yaml"
    with pytest.raises(LaunchFileError) as err:
        load_launch_file(path)
    message = str(err.value)
    if name != "error_in_include":   # there the innermost file is named first
        assert message.startswith(f"{path}: "), message
    for text in BAD_FILES[name]:
        assert text in message, f"{text!r} not in:\n{message}"


def test_every_bad_fixture_has_an_expected_message():
    assert sorted(p.name.removesuffix(".launch.yaml") for p in BAD.glob("*.launch.yaml")) == sorted(BAD_FILES)


def test_cli_arguments_are_checked(tmp_path):
    path = FILES / "features.launch.yaml"
    with pytest.raises(LaunchFileError, match=r"unknown launch argument 'sat' \(declared: debug, mode, sats\)"):
        load_launch_file(path, {"sat": "1"})
    with pytest.raises(LaunchFileError, match="'mode' = 'medium' is not one of the choices: fast, slow"):
        load_launch_file(path, {"mode": "medium"})


@pytest.mark.parametrize("argv, message", [
    ([str(BAD / "bad_if.launch.yaml")], "bad_if.launch.yaml: launch[0].node 'clock'"),
    ([str(FILES / "features.launch.yaml"), "sats=3"], "bad launch argument 'sats=3' (expected name:=value)"),
    ([str(FILES / "features.launch.yaml"), "bogus:=1"], "unknown launch argument 'bogus'"),
    (["sbamti", "no_such.launch.yaml"], "launch file 'no_such.launch.yaml' not found in package 'sbamti'"),
])
def test_cli_reports_errors_and_exits_2(argv, message, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "[launch] process started" not in captured.out + captured.err


def test_cli_dry_run_and_show_args(capsys):
    assert cli.main([str(FILES / "features.launch.yaml"), "--dry-run", "sats:=4"]) == 0
    out = capsys.readouterr().out
    assert "node clock-1 /sat1/clock" in out and "print(8)" in out
    assert cli.main(["--show-args", str(FILES / "features.launch.yaml")]) == 0
    assert "mode (default 'fast') [choices: fast, slow]" in capsys.readouterr().out
