"""Site-owner plans: scripted plans in a restricted Python subset, checked before they run.

A script is parsed and every node of its syntax tree is checked against an allow-list before a
single line runs: no imports beyond `math`, no attribute access (so no `__class__` escapes), no
names starting with an underscore, no `while` (a plan must end), no function or class
definitions, and calls only to the plan API (`slew`, `expose`, `dark`, `flat`, `wait`, `log`)
and a few pure built-ins. Arguments come from a CSV file, one run per row, as variables.
"""

from __future__ import annotations

import ast
import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.For,
    ast.If,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Compare,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Import,
    ast.ImportFrom,
    ast.alias,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
    ast.expr_context,
    ast.Attribute,
)
PLAN_API = ("slew", "expose", "dark", "flat", "wait", "log")
SAFE_BUILTINS: dict[str, Any] = {
    "range": range,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "len": len,
    "float": float,
    "int": int,
    "str": str,
    "True": True,
    "False": False,
    "None": None,
}
ALLOWED_MODULES = {"math": math}
MAX_RANGE = 10_000


class PlanError(Exception):
    """A plan that must not run: the line and what is wrong."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


def check_script(source: str) -> ast.Module:
    """Parse and check a script; raise PlanError naming the first offending line."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        raise PlanError(exc.lineno, f"syntax error: {exc.msg}") from exc
    imported = _imports(tree)
    for node, line in _walk_with_lines(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise PlanError(line, f"{type(node).__name__} is not allowed in a plan")
        if isinstance(node, ast.Pow):
            raise PlanError(line, "** is not allowed (use math.pow for small powers)")
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name)
            and node.value.id in imported
            and node.value.id in ALLOWED_MODULES
            and not node.attr.startswith("_")
        ):
            raise PlanError(line, "attribute access is only allowed on math (e.g. math.cos)")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise PlanError(line, f"names starting with '_' are not allowed ({node.id})")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute):
                continue  # math.<fn>, checked above
            if name not in PLAN_API and name not in SAFE_BUILTINS and name not in imported:
                raise PlanError(
                    line,
                    f"call to {ast.unparse(func)!r} is not allowed; a plan may call "
                    f"{', '.join(PLAN_API)} and "
                    f"{', '.join(k for k in SAFE_BUILTINS if k[0].islower())}",
                )
    return tree


def _walk_with_lines(tree: ast.AST) -> list[tuple[ast.AST, int | None]]:
    """Every node with its line (operators have none: they take their expression's)."""
    out: list[tuple[ast.AST, int | None]] = []
    stack: list[tuple[ast.AST, int | None]] = [(tree, None)]
    while stack:
        node, parent_line = stack.pop()
        line = getattr(node, "lineno", None) or parent_line
        out.append((node, line))
        stack.extend((child, line) for child in ast.iter_child_nodes(node))
    out.sort(key=lambda pair: pair[1] or 0)  # report the first offending line of the file
    return out


def _imports(tree: ast.Module) -> set[str]:
    """Names bound by the script's imports; only allowed modules may be imported."""
    imported: set[str] = set()
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_MODULES:
                    raise PlanError(
                        line,
                        f"import {alias.name}: only {', '.join(ALLOWED_MODULES)} may be imported",
                    )
                imported.add(alias.asname or alias.name)
        if isinstance(node, ast.ImportFrom):
            if node.module not in ALLOWED_MODULES or node.level:
                raise PlanError(
                    line,
                    f"from {node.module} import ...: only "
                    f"{', '.join(ALLOWED_MODULES)} may be imported",
                )
            for alias in node.names:
                if alias.name.startswith("_") or alias.name == "*":
                    raise PlanError(line, f"from math import {alias.name} is not allowed")
                imported.add(alias.asname or alias.name)
    return imported


@dataclass
class PlanRecorder:
    """Collects the actions a script asks for (the executor carries them out)."""

    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def api(self) -> dict[str, Callable[..., None]]:
        def action(kind: str) -> Callable[..., None]:
            def call(*args: Any, **kwargs: Any) -> None:
                names = {
                    "slew": ("ra_deg", "dec_deg"),
                    "expose": ("filter", "exposure_sec", "count"),
                    "dark": ("exposure_sec", "count"),
                    "flat": ("filter", "count"),
                    "wait": ("seconds",),
                    "log": ("message",),
                }[kind]
                if len(args) > len(names):
                    raise PlanError(None, f"{kind}() takes at most {len(names)} arguments")
                params = dict(zip(names, args, strict=False)) | kwargs
                unknown = set(params) - set(names)
                if unknown:
                    raise PlanError(None, f"{kind}() has no argument {sorted(unknown)[0]!r}")
                self.actions.append((kind, params))

            return call

        return {name: action(name) for name in PLAN_API}


def run_script(source: str, variables: dict[str, Any] | None = None) -> list[tuple[str, dict]]:
    """Check, then run a script with the plan API; returns the actions it asked for."""
    tree = check_script(source)
    recorder = PlanRecorder()

    budget = [MAX_RANGE]

    def bounded_range(*args: int) -> range:
        # Every range() draws on one budget, so nested loops are bounded too.
        r = range(*args)
        budget[0] -= len(r)
        if budget[0] < 0:
            raise PlanError(None, f"the plan's loops exceed {MAX_RANGE} steps in all")
        return r

    scope: dict[str, Any] = {
        "__builtins__": {**SAFE_BUILTINS, "range": bounded_range, "__import__": _import_allowed},
        **recorder.api(),
        **(variables or {}),
    }
    try:
        exec(compile(tree, "<plan>", "exec"), scope)
    except PlanError:
        raise
    except Exception as exc:
        line = _line_of(exc)
        raise PlanError(line, f"{type(exc).__name__}: {exc}") from exc
    return recorder.actions


def _import_allowed(name: str, *args: Any, **kwargs: Any) -> Any:
    if name not in ALLOWED_MODULES:
        raise PlanError(None, f"import {name} is not allowed")
    return ALLOWED_MODULES[name]


def _line_of(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<plan>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def script_runs_from_csv(source: str, csv_path: Path) -> list[list[tuple[str, dict]]]:
    """One run of the script per CSV row, the row's columns as variables (numbers converted)."""
    check_script(source)
    runs = []
    with csv_path.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            bad = [k for k in row if not k or not k.isidentifier() or k.startswith("_")]
            if bad:
                raise PlanError(None, f"{csv_path}: column {bad[0]!r} is not a variable name")
            values = {k: _number(v) for k, v in row.items()}
            try:
                runs.append(run_script(source, values))
            except PlanError as exc:
                raise PlanError(exc.line, f"{csv_path} row {number}: {exc}") from exc
    return runs


def _number(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value
