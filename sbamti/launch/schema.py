"""The launch-file schema (one table) and the structural check of a loaded YAML document.

The whole file is checked before anything is evaluated, so a typo in a branch whose ``if:`` is
false is still reported. Mappings loaded here remember their line, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sbamti.launch.model import LaunchFileError

CONDITIONS = ("if", "unless")


@dataclass(frozen=True)
class Shape:
    """The keys one mapping may hold.

    ``lists`` are attributes holding a list of mappings of the given shape (``"param"`` for the
    parameter list, whose items come in three forms); ``children`` hold nested entity lists;
    ``multi`` attributes may hold a list of scalars as well as a scalar.
    """

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    lists: dict[str, Shape | str] = field(default_factory=dict)
    children: tuple[str, ...] = ()
    multi: tuple[str, ...] = ()
    conditional: bool = True

    def allowed(self) -> list[str]:
        keys = [*self.required, *self.optional, *self.lists, *self.children]
        return sorted(keys + (list(CONDITIONS) if self.conditional else []))


NAME_VALUE = Shape(required=("name", "value"), conditional=False, multi=("value",))
REMAP = Shape(required=("from", "to"), conditional=False)
CHOICE = Shape(required=("value",), conditional=False)
PARAM = "param"   # {name, value} | {from} | {name, param: [...]}
PARAM_FORMS = {"value": ("name", "value"), "from": ("from",), "param": ("name", "param")}

PROCESS = ("cwd", "name", "output", "respawn", "respawn_delay", "respawn_max_retries", "sigterm_timeout",
           "sigkill_timeout", "on_exit", "launch-prefix")
COMPOSABLE = Shape(required=("pkg", "plugin"), optional=("name", "namespace"),
                   lists={"param": PARAM, "remap": REMAP, "extra_arg": NAME_VALUE})

ENTITIES: dict[str, Shape] = {
    "arg": Shape(required=("name",), optional=("default", "description"), lists={"choice": CHOICE}),
    "let": Shape(required=("name", "value")),
    "include": Shape(required=("file",), lists={"arg": NAME_VALUE}),
    "group": Shape(optional=("scoped", "forwarding", "namespace"), children=("children",)),
    "push_ros_namespace": Shape(required=("namespace",)),
    "set_env": Shape(required=("name", "value")),
    "append_env": Shape(required=("name", "value"), optional=("prepend", "separator")),
    "unset_env": Shape(required=("name",)),
    "log": Shape(required=("message",)),
    "set_parameter": Shape(required=("name", "value"), multi=("value",)),
    "set_remap": Shape(required=("from", "to")),
    "set_use_sim_time": Shape(required=("value",)),
    "timer": Shape(required=("period",), children=("children",)),
    "shutdown": Shape(optional=("reason",)),
    "executable": Shape(required=("cmd",), optional=("args", *PROCESS), lists={"env": NAME_VALUE}, multi=("args",)),
    "node": Shape(required=("exec",), optional=("pkg", "namespace", "args", "ros_args", *PROCESS),
                  lists={"env": NAME_VALUE, "param": PARAM, "remap": REMAP}, multi=("args", "ros_args")),
    "node_container": Shape(required=("name",), optional=("pkg", "exec", "namespace", "args", "ros_args", *PROCESS),
                            lists={"env": NAME_VALUE, "param": PARAM, "remap": REMAP, "composable_node": COMPOSABLE},
                            multi=("args", "ros_args")),
    "load_composable_node": Shape(required=("target",), lists={"composable_node": COMPOSABLE}),
}
ENTITY_ALIASES = {"push-ros-namespace": "push_ros_namespace"}
ATTRIBUTE_ALIASES = {"launch_prefix": "launch-prefix"}


# -- loading ---------------------------------------------------------------------------------------

class LineDict(dict):
    """A mapping from the YAML file that knows the line it started on."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise LaunchFileError(f"line {line}: duplicate key {key!r} (first at line {seen[key]})")
        seen[key] = line
    mapping = LineDict(loader.construct_pairs(node, deep=deep))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """The YAML document in ``path``; unreadable files and syntax errors name the line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise LaunchFileError(f"cannot read the file: {exc.strerror}", path=path) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise LaunchFileError(f"YAML syntax error{where}: {detail}", path=path) from None
    except yaml.YAMLError as exc:
        raise LaunchFileError(f"YAML error: {exc}", path=path) from None
    except LaunchFileError as exc:
        raise exc.located(path, None) from None


# -- structural check ------------------------------------------------------------------------------

def entity_list(document: Any) -> list[Any]:
    """The entity list under the root ``launch:`` key."""
    if document is None:
        raise LaunchFileError("the file is empty (expected a root key 'launch:' holding a list of entities)")
    if not isinstance(document, dict) or list(document) != ["launch"]:
        got = f"keys {', '.join(map(repr, document))}" if isinstance(document, dict) else kind_of(document)
        raise LaunchFileError(f"the root must be a mapping with the single key 'launch:' holding a list, got {got}")
    items = document["launch"]
    if items is None:
        return []
    if not isinstance(items, list):
        raise LaunchFileError(f"'launch:' must hold a list of entities, got {kind_of(items)}")
    return items


def split_entity(item: Any, position: str) -> tuple[str, dict]:
    """``{type: {attributes}}`` → (canonical type, attributes); the shape is checked."""
    if not isinstance(item, dict) or len(item) != 1:
        got = f"a mapping with keys {', '.join(map(repr, item))}" if isinstance(item, dict) else repr(item)
        raise LaunchFileError(f"expected an entity, a one-key mapping like '- node: {{...}}', got {got}",
                              entity=position + _line_suffix(item))
    (kind, attrs), = item.items()
    kind = ENTITY_ALIASES.get(kind, kind)
    if kind not in ENTITIES:
        raise LaunchFileError(f"unknown entity type {kind!r} (expected one of: {', '.join(sorted(ENTITIES))})",
                              entity=position + _line_suffix(item))
    if attrs is None:
        attrs = LineDict()
    if isinstance(attrs, list) and ENTITIES[kind].children:
        # `- group: [entities...]` is the short form of `- group: {children: [entities...]}`.
        children, attrs = attrs, LineDict()
        attrs[ENTITIES[kind].children[0]] = children
        attrs.line = getattr(item, "line", 0)
    if not isinstance(attrs, dict):
        raise LaunchFileError(f"the attributes of '{kind}' must be a mapping, got {attrs!r}",
                              entity=describe(position, kind, None, item))
    return kind, attrs


def describe(position: str, kind: str, attrs: dict | None, item: Any = None) -> str:
    """``launch[2].node 'talker' (line 7)`` — how an entity is named in messages."""
    text = f"{position}.{kind}"
    name = (attrs or {}).get("name")
    if isinstance(name, str):
        text += f" {name!r}"
    line = getattr(attrs, "line", 0) or getattr(item, "line", 0)
    return text + (f" (line {line})" if line else "")


def kind_of(value: Any) -> str:
    """A YAML word for the kind of ``value``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the {type(value).__name__} {value!r}"


def _line_suffix(item: Any) -> str:
    line = getattr(item, "line", 0)
    return f" (line {line})" if line else ""


def check_entities(items: list[Any], position: str) -> None:
    """Check every entity under ``position`` (recursively) against the schema."""
    for index, item in enumerate(items):
        where = f"{position}[{index}]"
        kind, attrs = split_entity(item, where)
        try:
            normalise_attributes(attrs)
            check_mapping(attrs, ENTITIES[kind], kind)
        except LaunchFileError as exc:
            raise LaunchFileError(exc.problem, entity=describe(where, kind, attrs, item)) from None
        shape = ENTITIES[kind]
        for key in shape.children:
            children = attrs.get(key) or []
            check_entities(children, f"{where}.{kind}.{key}")


def normalise_attributes(attrs: dict) -> None:
    """Rename attribute aliases (``launch_prefix`` → ``launch-prefix``) in place."""
    for alias, canonical in ATTRIBUTE_ALIASES.items():
        if alias in attrs:
            if canonical in attrs:
                raise LaunchFileError(f"both {alias!r} and {canonical!r} given")
            attrs[canonical] = attrs.pop(alias)


def check_mapping(attrs: dict, shape: Shape, what: str) -> None:
    """Unknown keys, missing keys and value kinds of one mapping; problems say which key."""
    allowed = shape.allowed()
    for key in attrs:
        if key not in allowed:
            raise LaunchFileError(f"unknown attribute {key!r} for {what} (expected one of: {', '.join(allowed)})")
    for key in shape.required:
        if key not in attrs:
            raise LaunchFileError(f"missing required attribute {key!r} for {what}")
    for key, value in attrs.items():
        if key in shape.children:
            if value is not None and not isinstance(value, list):
                raise LaunchFileError(f"attribute {key!r} must be a list of entities, got {kind_of(value)}")
        elif key in shape.lists:
            _check_list(key, value, shape.lists[key])
        else:
            _check_scalar(key, value, key in shape.multi)


def _check_scalar(key: str, value: Any, multi: bool) -> None:
    if value is None:
        raise LaunchFileError(f"attribute {key!r} has no value (write '' for an empty string)")
    if isinstance(value, dict):
        raise LaunchFileError(f"attribute {key!r} must be a single value, got a mapping")
    if isinstance(value, list):
        if not multi:
            raise LaunchFileError(f"attribute {key!r} must be a single value, got a list")
        for element in value:
            if isinstance(element, (dict, list)) or element is None:
                raise LaunchFileError(f"attribute {key!r}: list elements must be single values, got {element!r}")


def _check_list(key: str, value: Any, item_shape: Shape | str) -> None:
    if not isinstance(value, list):
        raise LaunchFileError(f"attribute {key!r} must be a list of mappings, got {kind_of(value)}")
    for index, item in enumerate(value):
        label = f"{key}[{index}]" + _line_suffix(item)
        if not isinstance(item, dict):
            raise LaunchFileError(f"{label}: expected a mapping, got {item!r}")
        try:
            if item_shape == PARAM:
                check_param_item(item)
            else:
                assert isinstance(item_shape, Shape)
                check_mapping(item, item_shape, key)
                for nested_key in item_shape.lists:
                    if nested_key in item:
                        _check_list(nested_key, item[nested_key], item_shape.lists[nested_key])
        except LaunchFileError as exc:
            raise LaunchFileError(f"{label}: {exc.problem}") from None


def check_param_item(item: dict) -> None:
    """A parameter entry: {name, value}, {from}, or a nested group {name, param: [...]}."""
    forms = [form for form in PARAM_FORMS if form in item]
    if len(forms) != 1:
        raise LaunchFileError("a parameter needs exactly one of 'value' (with 'name'), 'from' (a parameter file) or "
                              f"'param' (a nested list, with 'name'); got keys {', '.join(map(repr, item)) or 'none'}")
    expected = PARAM_FORMS[forms[0]]
    for key in item:
        if key not in expected:
            raise LaunchFileError(f"unknown key {key!r} in a parameter (expected: {', '.join(expected)})")
    for key in expected:
        if key not in item:
            raise LaunchFileError(f"missing key {key!r} in a parameter")
    if forms[0] == "param":
        _check_list("param", item["param"], PARAM)
    elif forms[0] == "value":
        value = item["value"]
        if value is None:
            raise LaunchFileError(f"parameter {item['name']!r} has no value")
        if isinstance(value, dict):
            raise LaunchFileError(f"parameter {item['name']!r}: a mapping is not a parameter value "
                                  "(use 'param: [...]' for a nested group)")


def declared_arguments(items: list[Any]) -> dict[str, dict]:
    """The ``arg`` entities of a file (in groups and timers too, not in includes): name → attributes."""
    found: dict[str, dict] = {}
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        (kind, attrs), = item.items()
        kind = ENTITY_ALIASES.get(kind, kind)
        if not isinstance(attrs, dict) or kind not in ENTITIES:
            continue
        if kind == "arg" and isinstance(attrs.get("name"), str):
            found.setdefault(attrs["name"], attrs)
        for key in ENTITIES[kind].children:
            if isinstance(attrs.get(key), list):
                for name, value in declared_arguments(attrs[key]).items():
                    found.setdefault(name, value)
    return found
