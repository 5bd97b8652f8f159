"""Arithmetic expressions from model files, parsed into a small tree and never executed.

The safe subset: numbers, names, ``+ - * / **``, unary minus, and calls to ``min``, ``max``,
``exp``, ``log`` and ``sqrt``; over dimensions, ``sum(x, "dim")`` and ``mean(x, "dim")`` and one
coordinate ``x[2024]`` or ``x["tpu", 2024]``; ``dimensionless(x)`` marks a factor whose units are
dropped on purpose (it is ``x`` itself; only :mod:`simulate.spec.unit_check` sees the mark). Python's ``ast`` module only parses the text; every
node is checked against that subset and turned into plain tuples, which
:mod:`simulate.spec.flatten` expands over the dimensions and :mod:`simulate.engine.compiler`
compiles into instructions for the kernel.
"""
from __future__ import annotations

import ast
import math

import numpy as np

from ..errors import ModelError

MAX_OPERANDS = 100        # numbers and names in one expression (the shipped models use at most 14)
MAX_DEPTH = 100           # nesting of operations in one expression (at most 10 in the shipped models)
MAX_INLINED_DEPTH = 150   # the same with the derived quantities it uses written out (see inlined_depths)
FUNCTIONS = {"min": (2, None), "max": (2, None), "exp": (1, 1), "log": (1, 1), "sqrt": (1, 1)}
REDUCTIONS = ("sum", "mean")     # sum(x, "dim", ...), mean(x, "dim", ...)
MARKS = ("dimensionless",)       # dimensionless(x): x, with its units dropped on purpose (unit checking only)
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
          "neg": np.negative, "min": np.minimum, "max": np.maximum, "exp": np.exp, "log": np.log, "sqrt": np.sqrt}

# A node is ("num", float) | ("name", str) | (op, child, ...) with op in the names above, or
# ("sum" | "mean", child, dims) | ("sel", child, coordinates) over dimensions (dims and coordinates
# are tuples of values, not nodes), or ("addn", child, child, ...): a flat sum, left to right.


def parse_expression(text, *, path=None, field: str, keep_marks: bool = False):
    """Parse ``text`` into a node tree, or raise :class:`ModelError` naming the bad construct.

    ``keep_marks`` keeps ``dimensionless(x)`` as a node (for the unit checker); otherwise it is ``x``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelError("an expression must be a non-empty string", path=path, field=field,
                         value=text, fix='write it in quotes, e.g. "visits * queries_per_visit"')
    from .schema import MAX_EXPRESSION_CHARS

    if len(text) > MAX_EXPRESSION_CHARS:
        raise ModelError(f"the expression is {len(text):,} characters long, more than the {MAX_EXPRESSION_CHARS:,} "
                         "allowed", path=path, field=field, value=text, fix=_SPLIT)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ModelError(f"the expression does not parse ({exc.msg})", path=path, field=field,
                         value=text, fix="use numbers, names, + - * / **, min, max, exp, log, sqrt") from None
    except (RecursionError, MemoryError):
        raise ModelError("the expression nests too deeply to parse", path=path, field=field, value=text,
                         fix=_SPLIT) from None
    operands, depth = _size(tree.body)
    if operands > MAX_OPERANDS or depth > MAX_DEPTH:
        raise ModelError(f"the expression has {operands} operands nested {depth} deep; at most {MAX_OPERANDS} "
                         f"operands and {MAX_DEPTH} levels are allowed", path=path, field=field, value=text, fix=_SPLIT)
    return _convert(tree.body, text, path, field, keep_marks)


_SPLIT = "split it into several [derived] quantities, each a part of the whole"


def _size(tree) -> tuple[int, int]:
    """(names and numbers, depth) of a Python syntax tree, counted without recursion."""
    operands, depth, stack = 0, 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        operands += isinstance(node, (ast.Name, ast.Constant))
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop)))
    return operands, depth


def node_depth(node) -> int:
    """Levels of a node tree (a name or number is 1), counted without recursion."""
    depth, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        depth = max(depth, level)
        if item[0] not in ("num", "name"):
            stack.extend((child, level + 1) for child in item[1:])
    return depth


def inlined_depths(nodes: dict) -> dict:
    """For each name -> node tree, the depth of its tree with every name of ``nodes`` it uses
    replaced by that name's own tree (a name counts one level), without recursion.

    The engine walks trees recursively through the derived quantities they use, so this depth,
    kept below :data:`MAX_INLINED_DEPTH`, bounds its recursion. ``nodes`` must have no cycles.
    """
    depths: dict = {}
    for root in nodes:
        stack = [root]
        while stack:
            name = stack[-1]
            if name in depths:
                stack.pop()
                continue
            pending = [n for n in names_in(nodes[name]) if n in nodes and n not in depths]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depths[name] = _depth_with(nodes[name], depths)
    return depths


def dependency_cycle(nodes: dict) -> list | None:
    """A cycle among the names of ``nodes`` (name -> node tree) as ``[a, b, ..., a]``, or None.

    Depth-first in the order of ``nodes`` and of each tree's sorted names, without recursion.
    """
    state: dict = {}
    for root in nodes:
        if state.get(root) == "done":
            continue
        trail, stack = [], [(root, None)]
        while stack:
            name, children = stack[-1]
            if children is None:
                if state.get(name) == "open":
                    return trail[trail.index(name):] + [name]
                if state.get(name) == "done":
                    stack.pop()
                    continue
                state[name] = "open"
                trail.append(name)
                children = iter([n for n in sorted(names_in(nodes[name])) if n in nodes])
                stack[-1] = (name, children)
            child = next(children, None)
            if child is None:
                state[name] = "done"
                trail.pop()
                stack.pop()
            else:
                stack.append((child, None))
    return None


def _depth_with(node, depths) -> int:
    depth, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        if item[0] == "name":
            depth = max(depth, level + depths.get(item[1], 0))
        elif item[0] == "num":
            depth = max(depth, level)
        else:
            stack.extend((child, level + 1) for child in item[1:])
    return depth


def _convert(node, text, path, field, keep_marks=False):
    def refuse(what, fix="use numbers, names, + - * / **, min, max, exp, log and sqrt only"):
        raise ModelError(f"{what} is not allowed in an expression", path=path, field=field,
                         value=text, fix=fix)

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            refuse(f"the constant {node.value!r}", "write numbers only; strings and booleans have no meaning here")
        return ("num", float(node.value))
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return (_BINARY[type(node.op)], _convert(node.left, text, path, field, keep_marks),
                _convert(node.right, text, path, field, keep_marks))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _convert(node.operand, text, path, field, keep_marks)
        return ("neg", operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REDUCTIONS:
        if node.keywords or len(node.args) < 2 or not all(_is_text(a) for a in node.args[1:]):
            refuse(f"{node.func.id}() without dimension names",
                   f'write {node.func.id}(x, "dimension"), naming one or more dimensions in quotes')
        return (node.func.id, _convert(node.args[0], text, path, field, keep_marks), tuple(a.value for a in node.args[1:]))
    if isinstance(node, ast.Subscript):
        keys = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not all(isinstance(k, ast.Constant) and isinstance(k.value, (int, float, str))
                   and not isinstance(k.value, bool) for k in keys):
            refuse("indexing by anything but coordinates", 'pick a coordinate as x[2024] or x["tpu", 2024]')
        return ("sel", _convert(node.value, text, path, field, keep_marks), tuple(k.value for k in keys))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKS:
        if node.keywords or len(node.args) != 1:
            refuse(f"{node.func.id}() with {len(node.args)} arguments", f"write {node.func.id}(x) around one factor")
        inner = _convert(node.args[0], text, path, field, keep_marks)
        return (node.func.id, inner) if keep_marks else inner
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            refuse(f"the call {name}()", f"call only {', '.join(list(FUNCTIONS) + list(REDUCTIONS) + list(MARKS))}")
        if node.keywords:
            refuse("a keyword argument")
        low, high = FUNCTIONS[node.func.id]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            refuse(f"{node.func.id}() with {len(node.args)} arguments",
                   f"{node.func.id}() takes {low}{'' if high == low else ' or more'} argument(s)")
        args = [_convert(arg, text, path, field, keep_marks) for arg in node.args]
        if node.func.id in ("min", "max"):  # fold n-ary min/max into a chain of binary ones
            result = args[0]
            for arg in args[1:]:
                result = (node.func.id, result, arg)
            return result
        return (node.func.id, args[0])
    kinds = {ast.Attribute: "attribute access", ast.Compare: "a comparison",
             ast.BoolOp: "a boolean operator", ast.Lambda: "a lambda", ast.IfExp: "a conditional"}
    refuse(kinds.get(type(node), f"the construct {type(node).__name__}"))


def _is_text(arg) -> bool:
    return isinstance(arg, ast.Constant) and isinstance(arg.value, str)


def children(node) -> tuple:
    """The sub-expressions of a node (not the dimension names or coordinates it carries)."""
    kind = node[0]
    if kind in ("num", "name"):
        return ()
    if kind in REDUCTIONS or kind == "sel":
        return (node[1],)
    return node[1:]


def names_in(node) -> set[str]:
    """Every name the expression reads."""
    if node[0] == "num":
        return set()
    if node[0] == "name":
        return {node[1]}
    return set().union(*(names_in(child) for child in children(node)))


def evaluate(node, values: dict, functions: dict = _NUMPY):
    """Evaluate a tree with numpy semantics on scalars or arrays (used for constant folding and the
    numpy oracle; the kernel runs the compiled program instead). ``functions``: the operation of
    each node kind (e.g. the C library's on Python floats, as :mod:`simulate.engine.folding` does)."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        return values[node[1]]
    args = [evaluate(child, values, functions) for child in node[1:]]
    with np.errstate(all="ignore"):
        if kind == "addn":
            total = args[0]
            for arg in args[1:]:
                total = functions["add"](total, arg)
            return total
        return functions[kind](*args)


def to_text(node) -> str:
    """The expression written back, fully parenthesised (for messages and reports)."""
    kind = node[0]
    if kind == "num":
        return repr(node[1]) if not math.isfinite(node[1]) else f"{node[1]:g}"
    if kind == "name":
        return node[1]
    symbols = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
    if kind in symbols:
        return f"({to_text(node[1])} {symbols[kind]} {to_text(node[2])})"
    if kind == "neg":
        return f"-{to_text(node[1])}"
    if kind == "addn":
        return "(" + " + ".join(to_text(child) for child in node[1:]) + ")"
    if kind in REDUCTIONS:
        return f"{kind}({to_text(node[1])}, " + ", ".join(f'"{d}"' for d in node[2]) + ")"
    if kind == "sel":
        return f"{to_text(node[1])}[" + ", ".join(repr(k) for k in node[2]) + "]"
    return f"{kind}({', '.join(to_text(child) for child in node[1:])})"
