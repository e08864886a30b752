"""A small numpy-like formula language for students' derivations, safe on untrusted specs.

A formula is parsed with ``ast.parse(mode="eval")`` and evaluated by walking the tree; nothing is
ever passed to ``eval`` or ``exec``. Only these nodes exist in the language:

- numbers (int or float literals, finite, |value| <= 1e15), names of the quantities the checker
  provides, parentheses;
- ``+ - * / @``, ``**`` with a literal exponent of magnitude <= 8, unary ``-`` and ``+``;
- one comparison ``> >= < <= == !=`` (a 0/1 mask such as ``z1 > 0``);
- the attribute ``.T`` and nothing else;
- calls of the functions in ``FUNCTIONS`` by name, with literal keyword arguments where listed (a
  whole number, True/False, or a tuple of whole numbers such as ``axis=(0, 2, 3)``); the layer
  operations (conv2d, rot180, pad, dilate, pooling, ...) are in ``layer_functions.py``.

No other attribute, no subscripts, no strings, no tuples but a keyword's, no lambdas, comprehensions, conditionals or
boolean operators; names starting with ``_`` are refused. Before every operation the size of its
result is computed from the operand shapes, and anything over ``MAX_ELEMENTS`` is refused, so
``outer`` of two long vectors or a broadcast to a huge matrix fails before any allocation.
Source length, node count and depth are bounded before and after parsing.

Two kinds of failure: :class:`FormulaRejected` (the formula is not allowed: the spec is invalid,
exit 2) and :class:`FormulaFailed` (it is allowed but does not evaluate on these arrays, e.g. a
matmul of mismatched shapes: the derivation is wrong, exit 1).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.derivation.functions import FUNCTIONS, MAX_TUPLE, FormulaFailed, broadcast_size, shape_text
from gradcheck_cli.network.registry import did_you_mean

__all__ = ["Formula", "FormulaFailed", "FormulaRejected", "parse_formula"]

MAX_SOURCE = 1000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_POWER = 8
MAX_CONSTANT = 1e15
MAX_ELEMENTS = 4_000_000


class FormulaRejected(ValueError):
    """The formula uses something the language does not allow; ``hint`` says what would be."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint



_COMPARISONS: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Gt: np.greater, ast.GtE: np.greater_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
    ast.Eq: np.equal, ast.NotEq: np.not_equal,
}
_ARITHMETIC: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**"}


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula: evaluate it with :meth:`evaluate`."""

    text: str
    tree: ast.Expression
    names: frozenset[str]  # the names it reads

    def evaluate(self, env: Mapping[str, np.ndarray], softmax_axis: int = 0) -> np.ndarray:
        with np.errstate(all="ignore"):
            value = _Evaluator(env, softmax_axis).visit(self.tree.body)
        return np.asarray(value, dtype=np.float64)


def parse_formula(text: str) -> Formula:
    """Parse and check ``text`` against the language; raises :class:`FormulaRejected`."""
    if not isinstance(text, str):
        raise FormulaRejected("a formula must be text")
    if len(text) > MAX_SOURCE:
        raise FormulaRejected(f"formula longer than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaRejected(f"not a valid formula: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaRejected("formula too deeply nested") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaRejected(f"formula has more than {MAX_NODES} parts")
    if _depth(tree) > MAX_DEPTH:
        raise FormulaRejected(f"formula nested deeper than {MAX_DEPTH} levels")
    names = set()
    keyword_tuples = {id(n.value) for n in nodes if isinstance(n, ast.keyword) and isinstance(n.value, ast.Tuple)}
    for node in nodes:
        if isinstance(node, ast.Tuple) and id(node) not in keyword_tuples:
            raise FormulaRejected("a tuple is not allowed in a formula",
                                  "tuples go only in keywords, as axis=(0, 2, 3)")
        _check_node(node)
        if isinstance(node, ast.Name) and not _is_function_name(node, tree):
            names.add(node.id)
    return Formula(text=text, tree=tree, names=frozenset(names))


def _depth(node: ast.AST, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    return max((_depth(child, level + 1) for child in ast.iter_child_nodes(node)), default=level)


def _is_function_name(node: ast.Name, tree: ast.AST) -> bool:
    return any(isinstance(call, ast.Call) and call.func is node for call in ast.walk(tree))


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Constant, ast.Attribute, ast.Call,
            ast.Load, ast.keyword, ast.Tuple, ast.USub, ast.UAdd, *_ARITHMETIC, ast.MatMult, ast.Pow, *_COMPARISONS)


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED):
        raise FormulaRejected(f"{_describe(node)} is not allowed in a formula")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise FormulaRejected(f"name {node.id!r} is not allowed (names starting with '_')")
    if isinstance(node, ast.Constant):
        _check_constant(node.value)
    if isinstance(node, ast.Attribute) and node.attr != "T":
        raise FormulaRejected(f"attribute '.{node.attr}' is not allowed",
                              "did you mean '.T'? only '.T' (transpose) is allowed")
    if isinstance(node, ast.Compare) and len(node.ops) != 1:
        raise FormulaRejected("chained comparisons are not allowed; write one comparison")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = _literal_number(node.right)
        if exponent is None:
            raise FormulaRejected("the exponent of '**' must be a number written out, such as 2 or -1")
        if abs(exponent) > MAX_POWER:
            raise FormulaRejected(f"exponent {exponent:g} is too large (at most {MAX_POWER})")
    if isinstance(node, ast.Call):
        _check_call(node)


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise FormulaRejected("only the listed functions can be called, by name (no methods)")
    name = node.func.id
    if name not in FUNCTIONS:
        raise FormulaRejected(f"function {name!r} is not available", did_you_mean(name, list(FUNCTIONS)))
    function = FUNCTIONS[name]
    low, high = function.arity
    if not low <= len(node.args) <= high or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaRejected(f"{name}() takes {low if low == high else f'{low} to {high}'} argument(s)")
    for keyword in node.keywords:
        if keyword.arg not in function.keywords:
            raise FormulaRejected(f"{name}() takes no keyword {keyword.arg!r}",
                                  did_you_mean(str(keyword.arg), sorted(function.keywords)) if function.keywords
                                  else f"{name}() takes no keywords")
        is_bool = isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, bool)
        numbers = keyword.value.elts if isinstance(keyword.value, ast.Tuple) else [keyword.value]
        values = [_literal_number(v) for v in numbers]
        if not is_bool and (not 1 <= len(values) <= MAX_TUPLE or any(v is None or v != int(v) for v in values)):
            raise FormulaRejected(f"{name}({keyword.arg}=...) must be a whole number, a tuple of at most {MAX_TUPLE} "
                                  "whole numbers, or True/False, written out")


def _check_constant(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, bool):
            return  # only reachable as keepdims=True; elsewhere _Evaluator refuses it
        raise FormulaRejected(f"constant {value!r} is not allowed; only numbers")
    if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
        raise FormulaRejected(f"number {value!r} is out of range (at most {MAX_CONSTANT:g} in size)")


def _literal_number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal_number(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _describe(node: ast.AST) -> str:
    names = {ast.Subscript: "indexing ([...])", ast.Lambda: "lambda", ast.IfExp: "'if ... else'",
             ast.BoolOp: "'and' / 'or'", ast.NamedExpr: "':='", ast.JoinedStr: "an f-string",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
             ast.Set: "a set", ast.Starred: "'*' unpacking", ast.FloorDiv: "'//'", ast.Mod: "'%'",
             ast.BitAnd: "'&'", ast.BitOr: "'|'", ast.BitXor: "'^'", ast.LShift: "'<<'", ast.RShift: "'>>'",
             ast.Not: "'not'", ast.Invert: "'~'", ast.Is: "'is'", ast.IsNot: "'is not'", ast.In: "'in'",
             ast.NotIn: "'not in'", ast.Await: "'await'", ast.Yield: "'yield'", ast.Slice: "a slice"}
    return names.get(type(node), type(node).__name__)


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        raise FormulaFailed("'@' needs arrays, not numbers; use '*' for a number")
    inner_a, inner_b = a[-1], (b[0] if len(b) == 1 else b[-2])
    mismatch = FormulaFailed(f"shape mismatch for '@': {shape_text(a)} @ {shape_text(b)}")
    if inner_a != inner_b:
        raise mismatch
    if len(a) <= 2 and len(b) <= 2:
        return a[:-1] + b[1:] if len(b) == 2 else a[:-1]
    # stacks of matrices (a sequence's samples): numpy's matmul broadcasts the leading axes
    try:
        lead = tuple(np.broadcast_shapes(a[:-2], b[:-2]))
    except ValueError:
        raise mismatch from None
    return lead + a[-2:-1] + (b[-1:] if len(b) > 1 else ())


def _guard(size: int, what: str) -> None:
    if size > MAX_ELEMENTS:
        raise FormulaRejected(f"{what} would create {size:,} numbers; a formula may create at most {MAX_ELEMENTS:,}")


class _Evaluator:
    def __init__(self, env: Mapping[str, np.ndarray], softmax_axis: int) -> None:
        self.env, self.softmax_axis = env, softmax_axis

    def visit(self, node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                raise FormulaRejected("True/False are only allowed as keepdims=")
            return np.asarray(float(node.value))  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            if node.id not in self.env:
                raise FormulaRejected(f"unknown name {node.id!r}; known: {', '.join(self.env)}")
            return self.env[node.id]
        if isinstance(node, ast.Attribute):  # only .T passes the check
            return np.asarray(self.visit(node.value)).T
        if isinstance(node, ast.UnaryOp):
            value = self.visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.Compare):
            left, right = self.visit(node.left), self.visit(node.comparators[0])
            _guard(broadcast_size(np.shape(left), np.shape(right)), "this comparison")
            return _COMPARISONS[type(node.ops[0])](left, right).astype(np.float64)
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise FormulaRejected(f"{_describe(node)} is not allowed in a formula")  # unreachable after the check

    def _binary(self, node: ast.BinOp) -> np.ndarray:
        left = self.visit(node.left)
        if isinstance(node.op, ast.Pow):
            exponent = _literal_number(node.right)
            assert exponent is not None
            return np.power(left, exponent)
        right = self.visit(node.right)
        if isinstance(node.op, ast.MatMult):
            shape = _matmul_shape(np.shape(left), np.shape(right))
            _guard(math.prod(shape), "this '@'")
            return np.matmul(left, right)
        _guard(broadcast_size(np.shape(left), np.shape(right)), f"this '{_SYMBOL[type(node.op)]}'")
        return _ARITHMETIC[type(node.op)](left, right)

    def _call(self, node: ast.Call) -> np.ndarray:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        function = FUNCTIONS[name]
        args = [self.visit(a) for a in node.args]
        kwargs = {k.arg: self._keyword(k.value) for k in node.keywords if k.arg}
        if name == "softmax":
            kwargs.setdefault("axis", self.softmax_axis)
        try:
            size = (function.result_size(*(np.shape(a) for a in args), **kwargs) if function.result_size
                    else np.size(args[0]))
            _guard(size, f"{name}()")
            return function.call(*args, **kwargs)
        except (ValueError, TypeError, IndexError) as exc:  # numpy's AxisError is both of the first and last
            if isinstance(exc, FormulaRejected):
                raise
            raise FormulaFailed(f"{name}(): {exc}") from None

    @staticmethod
    def _keyword(node: ast.AST) -> int | bool | tuple[int, ...]:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Tuple):
            return tuple(int(_literal_number(v)) for v in node.elts)  # type: ignore[arg-type]
        value = _literal_number(node)
        assert value is not None
        return int(value)
