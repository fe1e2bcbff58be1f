"""sbamti's launcher: reads ROS 2 YAML launch files, checks them completely, then runs the graph.

Public API::

    plan = load_launch_file("launch/demo.launch.yaml", {"rate": "10"})   # raises LaunchFileError
    plan.processes          # ProcessSpec: name, fqn, cmd, env, params, respawn, ...
    code = run_plan(plan)   # blocks until the graph ends; the launcher's exit code

``sbamti launch FILE [name:=value ...]`` and ``python -m sbamti.launch`` call ``sbamti.launch.cli.main``.
Modules: ``schema`` (the entity table, YAML loading, structural check), ``substitutions``
(``$(...)``), ``plan`` (evaluation into a ``LaunchPlan``: scopes, includes, nodes, containers),
``params`` (parameter values and files), ``names`` (ROS naming rules), ``packages`` (ament index,
executables, child environment), ``model`` (the plan's data and ``LaunchFileError``), ``runner``
(the processes), ``cli``.
"""

from sbamti.launch.model import (ComposableNodeSpec, LaunchFileError, LaunchPlan, LogAction, ProcessSpec,
                                 RespawnPolicy, ShutdownAction)
from sbamti.launch.plan import load_launch_file
from sbamti.launch.runner import run_plan

__all__ = ["ComposableNodeSpec", "LaunchFileError", "LaunchPlan", "LogAction", "ProcessSpec", "RespawnPolicy",
           "ShutdownAction", "load_launch_file", "run_plan"]
