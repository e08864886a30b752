"""A network: a stack of layers (``layers/``), the forward pass, and the backpropagation recursion.

Forward, for l = 1..L, each layer's own ``forward`` followed by its activation:

    z^l = layer_l(a^(l-1); its parameters),    a^l = f_l(z^l),    a^0 = x
    E   = R(sum over samples of loss(a^L, y)) + l2/2 sum of ||p||^2 over the parameters L2 applies to

where R divides by the batch size m for ``reduction: mean``. Backward, from the output down:

    delta^L = f_L'(z^L) * dE/da^L                  (softmax: its full Jacobian instead; for the pairs
                                                    sigmoid/softmax + cross-entropy the fused y_p - y_t)
    dE/da^(l-1), dE/dp^l = layer_l.backward(delta^l)      (+ l2 p^l where L2 applies)
    delta^(l-1) = f_(l-1)'(z^(l-1)) * dE/da^(l-1)

For dense layers that is the seeds' delta^l = f_l'(z^l) * (W^(l+1))^T delta^(l+1) and
dE/dW^l = delta^l (a^(l-1))^T + l2 W^l, dE/db^l = sum over samples of delta^l.

``forward_from``, ``loss_value`` and ``loss_and_kinks`` run the forward pass only; the numerical
witness calls nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck_cli.network.layers.base import Layer, Parameter, Shape
from gradcheck_cli.network.layouts import Layout
from gradcheck_cli.network.losses import Loss

Array = np.ndarray
Params = dict[str, Array]


@dataclass(frozen=True)
class Network:
    layout: Layout
    input_shape: Shape  # of one sample
    layers: tuple[Layer, ...]
    loss: Loss
    reduction: str  # sum | mean over the samples of the batch
    l2: float

    def parameters(self) -> dict[str, Parameter]:
        """Every parameter by its name in specs and reports (W1, b1, gamma3, ...), layer by layer."""
        return {f"{p.symbol}{l}": p for l, layer in enumerate(self.layers, start=1) for p in layer.parameters()}

    def parameter_names(self) -> list[str]:
        return list(self.parameters())

    def layer_of(self, name: str) -> int:
        """l of a parameter's name: the digits it ends with."""
        return int(name[len(name.rstrip("0123456789")):])

    def bias_none(self, name: str) -> bool:
        """Whether ``name`` is b<l> of a layer written with ``bias: none``: why that name does not exist."""
        l = self.layer_of(name) if name[1:].isdigit() else 0
        return name[:1] == "b" and 1 <= l <= len(self.layers) and getattr(self.layers[l - 1], "bias", None) == "none"

    def samples_in(self, out: Array) -> int:
        """m, from an array shaped as the output a^L or the targets (or a stack of them): the samples'
        axis is the last in column layout, and in row layout the one before a sample's own axes (one
        vector, or one per step of a sequence)."""
        column = self.layout.name == "column"
        return out.shape[self.layout.sample_axis if column else -len(self.layers[-1].out_shape) - 1]

    @property
    def outputs(self) -> int:
        """The output layer's units: the width of a target."""
        return self.layers[-1].out_shape[-1]


def layer_params(params: Params, layer: Layer, l: int) -> dict[str, Array]:
    """Layer l's parameters by their symbol (W, b, ...), as its forward and backward take them."""
    return {p.symbol: params[f"{p.symbol}{l}"] for p in layer.parameters()}


@dataclass
class ForwardPass:
    """Everything the backward pass needs: z^l, a^l (a[0] is x) and each layer's cache."""

    E: float
    z: list[Array] = field(default_factory=list)
    a: list[Array] = field(default_factory=list)
    caches: list[Any] = field(default_factory=list)


def forward(net: Network, params: Params, x: Array, y: Array) -> ForwardPass:
    """Run the network on ``x`` and return the loss E with the intermediate quantities."""
    return forward_from(net, params, y, layer=0, a=x)


def forward_from(net: Network, params: Params, y: Array, layer: int, *, a: Array | None = None,
                 z: Array | None = None) -> ForwardPass:
    """Run the rest of the network from an intermediate quantity: ``a`` = a^layer (a^0 is x) or
    ``z`` = z^layer. The lists of the result start at that layer. This is how the loss is seen as a
    function of z^l or a^l, to witness a derivation's delta^l = dE/dz^l and dE/da^l."""
    with np.errstate(all="ignore"):  # overflow shows up as a non-finite E, reported by the runner
        fp = ForwardPass(E=0.0)
        if z is not None:
            a = net.layers[layer - 1].activation.forward(z, net.layers[layer - 1].options)
            fp.z.append(z)
        assert a is not None
        fp.a.append(a)
        for l in range(layer + 1, len(net.layers) + 1):
            layer_l = net.layers[l - 1]
            z, cache = layer_l.forward(a, layer_params(params, layer_l, l))
            a = layer_l.activation.forward(z, layer_l.options)
            fp.z.append(z)
            fp.a.append(a)
            fp.caches.append(cache)
        data_loss = per_sample_losses(net, fp.z[-1] if fp.z else None, a, y).sum() / batch_divisor(net, a)
        E = data_loss + 0.5 * net.l2 * weight_penalty(net, params)
        fp.E = np.asarray(E).item()  # a Python float; complex only for the complex-step witness
    return fp


def per_sample_losses(net: Network, z: Array | None, a: Array, y: Array) -> Array:
    """The loss of each sample from the output layer's z^L and a^L: on the logits where the loss has an
    exact form for the output activation (where a rounds to 0 or 1 it would lose every digit). A
    sequence's sample has a loss per step; its loss is their sum."""
    output = net.layers[-1].activation.name
    if z is not None and output in net.loss.from_logits:
        losses = net.loss.from_logits[output](z, y, net.layout.unit_axis)
    else:
        losses = net.loss.per_sample(a, y, net.layout.unit_axis)
    steps = len(net.layers[-1].out_shape) - 1  # the step axes, after the samples' (row layout)
    return losses.sum(axis=tuple(range(-steps, 0))) if steps else losses


def weight_penalty(net: Network, params: Params) -> float:
    """The sum of ||p||^2 over the parameters L2 applies to (the W of dense layers), which the L2 term
    multiplies by l2 / 2."""
    return sum(np.sum(np.square(params[name])) for name, p in net.parameters().items() if p.l2)


def loss_value(net: Network, params: Params, x: Array, y: Array) -> float:
    """E alone: the forward pass, and nothing of the backward pass."""
    return forward(net, params, x, y).E


def loss_and_kinks(net: Network, params: Params, x: Array, y: Array) -> tuple[float, bytes]:
    """E, and which side of its kink every pre-activation of a kinked activation (relu, ...) lies on.

    Two evaluations with different patterns straddle a point where E is not differentiable, so a
    finite difference between them says nothing about the derivative. Forward pass only.
    """
    return with_kinks(net, forward(net, params, x, y), first_layer=1)


def with_kinks(net: Network, fp: ForwardPass, first_layer: int, from_z: bool = False) -> tuple[float, bytes]:
    """E and the kink pattern of the forward pass ``fp``, which starts at layer ``first_layer``."""
    sides = kink_sides(net, fp, first_layer, from_z)
    return fp.E, b"".join(np.packbits(s).tobytes() if s.dtype == bool else s.tobytes() for s in sides)


def kink_sides(net: Network, fp: ForwardPass, first_layer: int, from_z: bool = False) -> list[Array]:
    """Which side of each kink every layer of ``fp`` lies on, from layer ``first_layer`` on: the layer's
    own (a max-pool window's argmax, read from its forward's cache) and its activation's (z > 0 where
    the activation is kinked). ``from_z``: ``fp`` started from z^first_layer, so that layer's own
    forward did not run and only its activation counts."""
    sides: list[Array] = []
    for k, (layer, z) in enumerate(zip(net.layers[first_layer - 1 :], fp.z, strict=False)):
        if not (from_z and k == 0):
            sides += layer.input_sides(fp.caches[k - 1 if from_z else k])
        if layer.activation.kinked:
            sides.append(z.real > 0)
    return sides


def backward(net: Network, params: Params, fp: ForwardPass, y: Array) -> Params:
    """Analytic gradients of every parameter by the delta recursion, in parameter order."""
    grads: Params = {}
    with np.errstate(all="ignore"):
        axis = net.layout.unit_axis
        da = net.loss.gradient(fp.a[-1], y, axis) / batch_divisor(net, fp.a[-1])
        output = net.layers[-1]
        fused = net.loss.delta_from_logits.get(output.activation.name)
        for l in range(len(net.layers), 0, -1):
            layer = net.layers[l - 1]
            if l == len(net.layers) and fused is not None:  # the pair's exact dE/dz^L, as the forward's loss
                delta = fused(fp.a[-1], y, axis) / batch_divisor(net, fp.a[-1])
            else:
                delta = layer.activation.backward(da, fp.z[l - 1], fp.a[l], layer.options)
            da, layer_grads = layer.backward(delta, fp.caches[l - 1])
            for p in layer.parameters():
                name = f"{p.symbol}{l}"
                grads[name] = layer_grads[p.symbol] + net.l2 * params[name] if p.l2 else layer_grads[p.symbol]
    return {name: grads[name] for name in net.parameter_names()}


def batch_divisor(net: Network, a: Array) -> int:
    """m for reduction: mean, else 1."""
    return net.samples_in(a) if net.reduction == "mean" else 1
