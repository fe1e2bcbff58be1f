"""``$(...)`` substitutions in launch-file strings: a small parser and an evaluator.

Grammar (ours, compatible with what ROS 2 launch files write)::

    text  := (literal | call)*
    call  := "$(" NAME (whitespace arg)* ")"
    arg   := (literal | 'quoted' | "quoted" | call)+      # whitespace outside quotes separates args

Parentheses inside a call body nest (so ``$(eval max(1, 2) * 3)`` works); ``eval`` receives its whole
body, quotes included, after nested calls are replaced. Problems raise ``LaunchFileError`` with the
problem only; the evaluator adds file and entity.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, Union

from sbamti.launch.model import LaunchFileError

TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0")


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[tuple[Part, ...], ...]   # whitespace-separated, quotes removed
    body: tuple[Part, ...]               # everything after the name, quotes kept (for eval)


Part = Union[Text, Call]


class Context(Protocol):
    """What substitutions can look up: the scope's variables and environment, the current file."""

    def variable(self, name: str) -> str: ...
    def environment_variable(self, name: str) -> str | None: ...
    def current_dirname(self) -> str: ...
    def package_share(self, package: str) -> str: ...
    def package_prefix(self, package: str) -> str: ...


def parse_bool(value: object, what: str = "value") -> bool:
    """true/false/1/0 (any case, or a YAML bool/0/1) → bool; anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise LaunchFileError(f"{what}: expected a boolean (true/false/1/0), got {str(value)!r}")


def bool_text(value: bool) -> str:
    return "true" if value else "false"


# -- parsing ---------------------------------------------------------------------------------------

def parse(text: str) -> tuple[Part, ...]:
    """Split ``text`` into literal text and substitution calls."""
    parser = _Parser(text)
    parts = parser.parse_top()
    return parts


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> LaunchFileError:
        return LaunchFileError(f"{problem} in {self.text!r}")

    def parse_top(self) -> tuple[Part, ...]:
        parts: list[Part] = []
        literal: list[str] = []
        while self.pos < len(self.text):
            if self.text.startswith("$(", self.pos):
                if literal:
                    parts.append(Text("".join(literal)))
                    literal = []
                parts.append(self.parse_call())
            else:
                literal.append(self.text[self.pos])
                self.pos += 1
        if literal:
            parts.append(Text("".join(literal)))
        return tuple(parts)

    def parse_call(self) -> Call:
        start = self.pos
        self.pos += 2
        name_start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "-_"):
            self.pos += 1
        name = self.text[name_start:self.pos]
        if not name:
            if self.pos >= len(self.text):
                raise self.error(f"unterminated '$(' at column {start + 1}")
            raise self.error(f"missing substitution name after '$(' at column {start + 1}")
        if self.pos < len(self.text) and not (self.text[self.pos].isspace() or self.text[self.pos] == ")"):
            raise self.error(f"bad character {self.text[self.pos]!r} after '$({name}' at column {self.pos + 1}")
        args: list[tuple[Part, ...]] = []
        body: list[Part] = []
        arg: list[Part] = []
        arg_started = False   # an arg made only of quotes ('') still counts
        depth = 0
        quote: str | None = None

        def add(target: list[Part], item: Part) -> None:
            if isinstance(item, Text) and target and isinstance(target[-1], Text):
                target[-1] = Text(target[-1].value + item.value)
            else:
                target.append(item)

        while True:
            if self.pos >= len(self.text):
                what = f"unterminated quote {quote}" if quote else "unterminated '$('"
                raise self.error(f"{what} (substitution '$({name}' starting at column {start + 1})")
            ch = self.text[self.pos]
            if self.text.startswith("$(", self.pos):
                call = self.parse_call()
                add(arg, call)
                add(body, call)
                arg_started = True
                continue
            self.pos += 1
            if quote:
                if ch == quote:
                    quote = None
                else:
                    add(arg, Text(ch))
                add(body, Text(ch))
                continue
            if ch in "'\"":
                quote = ch
                arg_started = True
                add(body, Text(ch))
            elif ch == ")" and depth == 0:
                break
            elif ch.isspace():
                if arg_started:
                    args.append(tuple(arg))
                    arg, arg_started = [], False
                add(body, Text(ch))
            else:
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                add(arg, Text(ch))
                add(body, Text(ch))
                arg_started = True
        if arg_started:
            args.append(tuple(arg))
        if body and isinstance(body[0], Text):
            stripped = body[0].value.lstrip()
            body = ([Text(stripped)] if stripped else []) + body[1:]
        return Call(name, tuple(args), tuple(body))


# -- evaluation ------------------------------------------------------------------------------------

def has_substitutions(text: str) -> bool:
    return "$(" in text


def evaluate(text: str, ctx: Context) -> str:
    """``text`` with every substitution replaced by its value."""
    if not has_substitutions(text):
        return text
    return _join(parse(text), ctx)


def _join(parts: tuple[Part, ...], ctx: Context) -> str:
    return "".join(p.value if isinstance(p, Text) else _call(p, ctx) for p in parts)


Handler = Callable[[Call, list[Callable[[], str]], Context], str]


@dataclass(frozen=True)
class _Function:
    handler: Handler
    min_args: int
    max_args: int | None   # None: any number
    usage: str


def _call(call: Call, ctx: Context) -> str:
    fn = FUNCTIONS.get(call.name)
    if fn is None:
        raise LaunchFileError(f"unknown substitution '$({call.name} ...)' (expected one of: {', '.join(sorted(FUNCTIONS))})")
    count = len(call.args)
    if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
        raise LaunchFileError(f"'$({call.name})' takes {_arity(fn)}, got {count}: usage {fn.usage}")
    # Arguments are evaluated on demand so $(if) only evaluates the branch it takes.
    thunks = [(lambda a=a: _join(a, ctx)) for a in call.args]
    return fn.handler(call, thunks, ctx)


def _arity(fn: _Function) -> str:
    if fn.max_args == fn.min_args:
        return f"{fn.min_args} argument{'s' if fn.min_args != 1 else ''}"
    if fn.max_args is None:
        return f"at least {fn.min_args} arguments"
    return f"{fn.min_args} to {fn.max_args} arguments"


def _var(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return ctx.variable(args[0]())


def _env(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    name = args[0]()
    value = ctx.environment_variable(name)
    if value is not None:
        return value
    if len(args) == 2:
        return args[1]()
    raise LaunchFileError(f"environment variable {name!r} is not set (give a default: $(env {name} <default>))")


def _if(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    if parse_bool(args[0](), "$(if) condition"):
        return args[1]()
    return args[2]() if len(args) == 3 else ""


def _not(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return bool_text(not parse_bool(args[0](), "$(not) argument"))


def _and(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return bool_text(all(parse_bool(a(), "$(and) argument") for a in args))


def _or(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return bool_text(any(parse_bool(a(), "$(or) argument") for a in args))


def _equals(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    left, right = args[0](), args[1]()
    return bool_text(_normalise(left) == _normalise(right))


def _normalise(text: str) -> object:
    """Compare booleans as booleans and numbers as numbers ("1.0" equals "1"), else as text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _dirname(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return ctx.current_dirname()


def _find_pkg_share(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return ctx.package_share(args[0]())


def _find_pkg_prefix(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return ctx.package_prefix(args[0]())


def _eval(call: Call, args: list[Callable[[], str]], ctx: Context) -> str:
    return safe_eval(_join(call.body, ctx).strip())


FUNCTIONS: dict[str, _Function] = {
    "var": _Function(_var, 1, 1, "$(var NAME)"),
    "env": _Function(_env, 1, 2, "$(env NAME [DEFAULT])"),
    "eval": _Function(_eval, 1, None, "$(eval PYTHON_EXPRESSION)"),
    "dirname": _Function(_dirname, 0, 0, "$(dirname)"),
    "find-pkg-share": _Function(_find_pkg_share, 1, 1, "$(find-pkg-share PACKAGE)"),
    "find-pkg-prefix": _Function(_find_pkg_prefix, 1, 1, "$(find-pkg-prefix PACKAGE)"),
    "if": _Function(_if, 2, 3, "$(if CONDITION THEN [ELSE])"),
    "not": _Function(_not, 1, 1, "$(not VALUE)"),
    "and": _Function(_and, 2, None, "$(and A B ...)"),
    "or": _Function(_or, 2, None, "$(or A B ...)"),
    "equals": _Function(_equals, 2, 2, "$(equals A B)"),
}


# -- $(eval) ---------------------------------------------------------------------------------------

_SAFE_BUILTINS: dict[str, object] = {f.__name__: f for f in (abs, min, max, round, int, float, str, bool, len, sum, pow, divmod,
                                           sorted, any, all, range, list, tuple)}
_SAFE_BUILTINS.update({"True": True, "False": False, "None": None})
_EVAL_GLOBALS = {"__builtins__": _SAFE_BUILTINS, "math": math,
                 **{k: v for k, v in vars(math).items() if not k.startswith("_")}}


def safe_eval(expression: str) -> str:
    """Evaluate a Python expression with ``math`` and a few builtins; the result as text.

    Names and attributes starting with ``_`` are refused, which closes the usual escapes
    (``().__class__...``); launch files are trusted input, this only keeps mistakes contained.
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise LaunchFileError(f"$(eval {expression}) failed: invalid Python expression ({exc.msg})") from None
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name is not None and name.startswith("_"):
            raise LaunchFileError(f"$(eval {expression}) failed: name {name!r} is not allowed")
    try:
        value = eval(compile(tree, "<eval>", "eval"), dict(_EVAL_GLOBALS), {})  # noqa: S307 (restricted namespace)
    except Exception as exc:  # noqa: BLE001 (any failure of the user's expression is reported)
        raise LaunchFileError(f"$(eval {expression}) failed: {type(exc).__name__}: {exc}") from None
    return str(value)
