"""What a failing row of ``gradcheck layer`` probably got wrong, in the words of derivation diagnoses.

Tried in order on a gradient that disagrees: consistent with the student's own forward where that
forward is what differs from the reference; a transpose; a constant factor (sign, 2, 1/2, any r);
then the reference layer type's classic mistakes (kernel not rotated, bias not summed, pooling
routed to the wrong entry, batchnorm's terms through the mean and variance missing, an embedding
overwritten), each computed by the registry from the upstream gradient and the inputs, never from a
backward pass of gradcheck's. The verdict itself always comes from the numerical witness.
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.commands.layer_reference import Reference
from gradcheck_cli.derivation.diagnose import close, constant_ratio, describe_factor
from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.verdict.results import ParamResult, Status

Array = np.ndarray


def forward_note(result: ParamResult, reference: Reference) -> str:
    """Why the forward's values differ from the reference's, when they do."""
    if result.status is Status.PASS:
        return ""
    return (f"the forward differs from {reference.label}'s ({_factor(result.analytic, result.numeric)}): the rows "
            f"against your own forward check your backward on it; the rows against {reference.label} show the "
            f"gradients the layer should have")


def diagnose_gradient(result: ParamResult, name: str, grad: Array, douts: list[Array], arrays: dict[str, Array],
                      reference: Reference | None, against: str, own: Array | None = None) -> str:
    """Why d<name> disagrees with the numerical VJP of ``against`` (own: the VJP of the student's forward)."""
    if result.status is Status.PASS:
        return ""
    if own is not None and close(grad, own):
        return f"consistent with your own forward, which is what differs from {against}: fix the forward"
    n = result.numeric
    if grad.ndim == 2 and grad.shape[0] == grad.shape[1] and close(grad.T, n):
        return "the result is transposed"
    if constant_ratio(grad, n) is not None:
        return _factor(grad, n)
    for value, says in _upstream(grad, douts) + _activation_mistakes(name, douts, arrays, reference) + _layer_mistakes(
            name, douts, arrays, reference):
        if value.size == grad.size and close(value.reshape(grad.shape), grad) and not close(value.reshape(n.shape), n):
            return says
    return "not a transpose, a constant factor or one of the layer type's classic mistakes"


def diagnose_shape(name: str, grad: Array, douts: list[Array], arrays: dict[str, Array],
                   reference: Reference | None) -> str:
    """Why d<name> has another shape than its input: a transpose, or a classic mistake of that shape
    (a conv bias not summed over the positions), or '' when none fits."""
    if grad.ndim == 2 and grad.T.shape == arrays[name].shape:
        return "it is transposed"
    for value, says in _layer_mistakes(name, douts, arrays, reference):
        if value.shape == grad.shape and close(value, grad):
            return says
    return ""


def _factor(s: Array, n: Array) -> str:
    r = constant_ratio(s, n)
    return "not by a constant factor" if r is None else describe_factor(r)


def _upstream(grad: Array, douts: list[Array]) -> list[tuple[Array, str]]:
    """The upstream gradient passed on as it is: the layer's own derivative left out."""
    return [(douts[0], "it equals dout, the upstream gradient: the layer's own derivative is missing")] if (
        len(douts) == 1 and douts[0].shape == grad.shape) else []


def _activation_mistakes(name: str, douts: list[Array], arrays: dict[str, Array],
                         reference: Reference | None) -> list[tuple[Array, str]]:
    """An activation's classic wrong derivatives: taken at its output instead of its input, or another
    activation's derivative used."""
    if reference is None or reference.activation is None or name != reference.input_name:
        return []
    act, options = reference.activation
    z, dout = np.asarray(arrays[name], dtype=np.float64), douts[0]
    a = act.forward(z, options)
    with np.errstate(all="ignore"):
        out = [(act.backward(dout, a, act.forward(a, options), options),
                f"the derivative of {act.name} was taken at its output a instead of its input x")]
        out += [(other.backward(dout, z, a, options), f"used the derivative of {other.name} ({other.derivative}) "
                 f"on a {act.name} layer, whose derivative is {act.derivative}")
                for other in ACTIVATIONS.values() if other.name not in (act.name, "softmax")]
    return out


def _layer_mistakes(name: str, douts: list[Array], arrays: dict[str, Array],
                    reference: Reference | None) -> list[tuple[Array, str]]:
    """The reference layer type's classic wrong derivations of d<name>, where the layer's upstream
    gradient is the spec's dout (a layer with no activation of its own after it)."""
    if reference is None or reference.layer is None or reference.layer.activation.name != "identity":
        return []
    assert reference.layer_inputs is not None
    of = "a" if name == reference.input_name else (reference.symbols or {}).get(name)
    with np.errstate(all="ignore"):
        mistakes = reference.layer.mistakes(1, douts[0], *reference.layer_inputs(arrays))
    return [(m.value, m.says) for m in mistakes if m.of == of]
