"""The functions a formula may call, each with the size of its result computed from the shapes of
its arguments before anything is allocated (``formula.py`` refuses a call over its limit).

Elementwise functions and numpy's reductions are here; the operations of convolutional, pooling and
normalising layers are in ``layer_functions.py`` and join the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck_cli.derivation.layer_functions import LAYER_FUNCTIONS
from gradcheck_cli.network.activations import sigmoid as _sigmoid
from gradcheck_cli.network.activations import softmax as _softmax


class FormulaFailed(ValueError):
    """The formula is allowed but cannot be evaluated on these arrays (shapes, domain)."""


@dataclass(frozen=True)
class Function:
    arity: tuple[int, int]  # (min, max) positional arguments
    keywords: tuple[str, ...]
    call: Callable[..., Any]  # numpy functions; results pass through np.asarray
    result_size: Callable[..., int] | None = None  # from the argument shapes; None: the first's size


def _elementwise(f: Callable[[np.ndarray], np.ndarray]) -> Function:
    return Function((1, 1), (), f)


def _outer_size(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return math.prod(a) * math.prod(b)


def _diag_size(a: tuple[int, ...]) -> int:
    return math.prod(a) ** 2 if len(a) <= 1 else min(a)


def broadcast_size(*shapes: tuple[int, ...]) -> int:
    return math.prod(broadcast_shape(*shapes))


FUNCTIONS: dict[str, Function] = {
    "sum": Function((1, 1), ("axis", "keepdims"), lambda a, axis=None, keepdims=False: np.sum(a, axis,
                                                                                             keepdims=keepdims)),
    "mean": Function((1, 1), ("axis", "keepdims"), lambda a, axis=None, keepdims=False: np.mean(a, axis,
                                                                                               keepdims=keepdims)),
    "exp": _elementwise(np.exp),
    "log": _elementwise(np.log),
    "sqrt": _elementwise(np.sqrt),
    "abs": _elementwise(np.abs),
    "tanh": _elementwise(np.tanh),
    "sigmoid": _elementwise(_sigmoid),
    "relu": _elementwise(lambda a: np.maximum(a, 0.0)),
    "softmax": Function((1, 1), ("axis",), lambda a, axis=0: _softmax(a, axis)),
    "maximum": Function((2, 2), (), np.maximum, broadcast_size),
    "minimum": Function((2, 2), (), np.minimum, broadcast_size),
    "where": Function((3, 3), (), lambda c, a, b: np.where(c != 0, a, b), broadcast_size),
    "outer": Function((2, 2), (), lambda a, b: np.outer(a, b), _outer_size),
    "diag": Function((1, 1), (), np.diag, _diag_size),
    "ones_like": _elementwise(np.ones_like),
    "zeros_like": _elementwise(np.zeros_like),
    "clip": Function((3, 3), (), np.clip, broadcast_size),
}
FUNCTIONS.update({name: Function((arity, arity), keywords, call, size)
                  for name, (call, size, keywords, arity) in LAYER_FUNCTIONS.items()})
MAX_TUPLE = 8  # numbers in a keyword's tuple


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise FormulaFailed("shapes " + " and ".join(shape_text(s) for s in shapes) + " do not broadcast") from None


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


