"""The memory guard: what a check will hold at its peak, estimated before anything is allocated,
and the refusal of a spec that would not fit ``--max-memory``.

numpy allocates lazily, so a network too large for the machine would otherwise be killed later
without a word. benchmarks/memory.py holds the estimate against the measured peak of real runs.
"""

from __future__ import annotations

import math

from gradcheck_cli.network.network import Network
from gradcheck_cli.reading.loader import SourceMap
from gradcheck_cli.reading.model import Spec

# What a check holds at its peak, in bytes per entry, fitted to the measured peaks of
# benchmarks/memory.py (wide, deep, large-batch, row and column, dense, convolutional and recurrent
# networks) and rounded up so that no estimate is below its measurement: per parameter entry, what
# the check keeps of it (the parameter, its analytic gradient, the witness's fields, the verdict's
# arrays: about 10 float64 numbers, tracemalloc says; re-checks are compact and the verdict works
# slice by slice), a little more for the largest parameter; per activation value (x, y, every z and
# a), the forward pass, its caches, the dense engine's stacks of perturbed networks and a
# derivation's results; a fixed part (threads, scratch buffers); and, for a network with any layer
# other than a dense one, the layered engine's chunks (each array of a stack is at most
# CHUNK_ELEMENTS numbers, but a stack holds many, a recurrence one per step, in two threads). The
# measured peaks include what the tuned allocator keeps for reuse (run/process_settings.py).
BYTES_PER_PARAMETER = 104
BYTES_PER_LARGEST_PARAMETER = 8
BYTES_PER_ACTIVATION = 184
FIXED_BYTES = 6 * 2**20
LAYERED_BYTES = 22 * 2**20


def memory_needed(spec: Spec, net: Network) -> tuple[int, int, int]:
    """(bytes the check allocates at its peak, parameters, batch size), before anything is allocated.

    Sizes are Python integers, so the estimate cannot overflow. benchmarks/memory.py holds it against
    the measured peak of real runs."""
    m = spec.data.samples
    sizes = [math.prod(net.input_shape)] + [math.prod(layer.out_shape) for layer in net.layers]
    largest = _per_layer(net)
    params = sum(largest.values())
    activations = m * sum(sizes) + m * (sizes[0] + sizes[-1])
    needed = (BYTES_PER_PARAMETER * params + BYTES_PER_LARGEST_PARAMETER * max(largest.values(), default=0)
              + BYTES_PER_ACTIVATION * activations + FIXED_BYTES
              + (LAYERED_BYTES if any(layer.TYPE != "dense" or layer.per_step for layer in net.layers) else 0))
    return needed, params, m


def _per_layer(net: Network) -> dict[int, int]:
    """Each layer's parameter entries, by its index from 0."""
    return {l: sum(math.prod(p.shape) for p in layer.parameters()) for l, layer in enumerate(net.layers)}


def check_memory(spec: Spec, net: Network, source: SourceMap, max_bytes: int) -> None:
    """Refuse a spec whose arrays would not fit, naming what it would need and the limit."""
    needed, params, m = memory_needed(spec, net)
    if needed > max_bytes:
        per_layer = _per_layer(net)
        widest = max(per_layer, key=per_layer.__getitem__)
        raise source.error(("layers", widest), f"this network needs about {needed / 1024**3:.1f} GiB "
                           f"({params:,} parameters, batch {m:,}); the limit is {max_bytes / 1024**3:.1f} GiB",
                           "make it smaller, or raise the limit with --max-memory")
