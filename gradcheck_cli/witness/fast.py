"""The structure-aware numerical witness: every entry, central differences, far fewer FLOPs.

Still forward-only, and still the network's own forward functions on perturbed inputs; what
changes is how much of the forward pass is recomputed:

- Perturbing W^l[i, j] (or b^l[i]) by d changes only unit i of z^l, by d * a^(l-1)_j (or d) over
  the samples; everything upstream of layer l is reused as it is.
- For an elementwise activation, only unit i of a^l changes, by Da; it enters z^(l+1) as the exact
  rank-1 term W^(l+1)[:, i] Da (column layout; the transpose in row layout).
- From z^(l+1) on, the rest of the network runs for real, for a whole stack of perturbations at
  once (the layout's axes count from the end, so the same layer, activation and loss functions
  take a leading batch axis), and the loss function is applied unchanged.
- Where the rank-1 step does not apply (a softmax layer, the last layer, a shared bias), the
  perturbed z^l is rebuilt in full and the stack runs from there.
- Where nothing after layer l has a kink, each sample's loss is a smooth function of that sample's
  Da alone: the rest of the network runs at 9 values of Da, and a polynomial fitted to those loss
  values, checked against all 9 to within a share of the round-off, gives every perturbation's
  loss (``unit_stacks.UnitStacks._unit_fitted``); a unit no polynomial fits that well runs the stack
  instead.

No derivative is used anywhere: each entry is (E(theta + h) - E(theta - h)) / 2h with both E
computed from forward passes, so this engine agrees with the plain loop (``central.py``, kept as
``--engine naive``) up to round-off, which a test checks on every example spec. Each chunk also
carries an unperturbed copy, so the one-sided slopes at kinks compare values of one computation.

All of that is for dense layers with only dense layers after them (the network's dense tail).
The parameters of every other layer (convolutions, normalisations, a dense layer before them) go
to ``layered.py``: a stack of perturbed copies rerun from the perturbed layer on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from itertools import chain
from typing import Any

import numpy as np

from gradcheck_cli.network.layers.recurrent import Recurrent
from gradcheck_cli.network.network import Network, Params
from gradcheck_cli.witness.central import Masks, Witness, parameter_scale, roundoff_error, selected
from gradcheck_cli.witness.fast_engine import Engine
from gradcheck_cli.witness.fields import Fields, places_of
from gradcheck_cli.witness.forked import compute as forked_compute
from gradcheck_cli.witness.forked import forked_workers
from gradcheck_cli.witness.forked import usable as fork_usable
from gradcheck_cli.witness.layered import Chunk, LayeredEngine

Array = np.ndarray
THREADS_FROM = 4096  # entries of a check from which its groups run in worker threads
IN_FLIGHT = 4  # groups queued per worker thread: enough to keep them busy, few enough to report progress


def fast_central_differences(net: Network, params: Params, x: Array, y: Array, eps: float,
                             progress: Callable[[int, int], None] | None = None, workers: int = 2,
                             masks: Masks | None = None, fit: bool = True) -> Witness:
    """The same witness as ``numeric.central_differences``, computed by perturbing stacks of networks.

    Groups of entries (one unit of one layer each) are evaluated by ``workers`` threads
    (``Engine.group``); every group is computed the same way whichever thread takes it, so the
    result does not depend on them. Threads, not processes, for the dense engine: numpy releases the
    GIL in its array loops, and since the fitted loss made groups short, forked processes no longer
    paid for their start (the 101k witness: 0.14-0.15 s with threads, 0.17-0.22 s with two forked
    processes). A recurrent layer's chunks, dozens of numpy calls per step each, go to forked
    workers where that is safe (``forked.py``).
    ``masks`` limits it to some entries of some parameters (``--sample``, the drill-down of
    ``--fast``, re-checks); the others stay NaN and unchecked. ``fit=False`` (``--engine stack``)
    runs every perturbation through the rest of the network, never the fitted loss."""
    return fast_central_differences_at(net, params, x, y, (eps,), progress, workers, masks, fit)[0]


def fast_central_differences_at(net: Network, params: Params, x: Array, y: Array, epsilons: Sequence[float],
                                progress: Callable[[int, int], None] | None = None, workers: int = 2,
                                masks: Masks | None = None, fit: bool = True,
                                compact: bool = False) -> list[Witness]:
    """One witness per step in ``epsilons``, all steps of a group in one stack (Richardson's three
    steps): one pass over the groups instead of one per step. ``compact`` (re-checks): each field
    holds only the entries ``masks`` selects, flat and in C order (``fields.py``)."""
    params = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}  # read, never written
    engine = Engine(net, params, x, y, fit)
    layered = LayeredEngine(net, params, y, engine.fp)
    tail = dense_tail(net)
    witnesses = [Witness() for _ in epsilons]
    chosen = selected(params, masks)
    total, done = sum(int(mask.sum()) for mask in chosen.values()), 0
    filled: list[tuple[str, list[Fields], Array]] = []  # each parameter's fields, stored once all are done
    chunks: list[Chunk] = []  # the layered engine's work, for the threads or forked workers
    dense: list[tuple[str, Array, float, list[Fields]]] = []  # the dense engine's parameters
    for name, mask in chosen.items():
        p = params[name]
        scale = parameter_scale(p)  # a group's steps: eps * max(|w|, scale), step_sizes(p, eps) bit for bit
        places = places_of(mask) if compact else None
        fields = [Fields.empty(p.shape, places) for _ in epsilons]  # filled by the groups
        filled.append((name, fields, mask))
        if net.layer_of(name) < tail:
            chunks += layered.tasks(name, mask, epsilons, scale, fields)
        else:
            dense.append((name, mask, scale, fields))
    in_flight: deque[Group] = deque()  # a few groups ahead, never all at once, across parameters: no
    # worker idles at a parameter's end while another finishes its last group
    parallel = total >= THREADS_FROM and workers > 1
    with ExitStack() as running:
        # forked first, before any thread of this witness starts: a fork copies no thread
        recurrent = any(isinstance(net.layers[net.layer_of(name) - 1], Recurrent) for name, _, _ in filled)
        fork = parallel and fork_usable(len(chunks), recurrent)
        pool = running.enter_context(forked_workers(chunks, workers)) if fork else None
        threads = running.enter_context(ThreadPoolExecutor(max_workers=workers) if parallel else _Inline())
        layered_work = (((chunk.size, pool.submit(forked_compute, k), chunk.write) for k, chunk in enumerate(chunks))
                        if pool else ((chunk.size, threads.submit(chunk.run), None) for chunk in chunks))
        dense_work = ((np.size(w), threads.submit(engine.group, name, index, w, _half_steps(w, epsilons, scale),
                                                  fields), None)
                      for name, mask, scale, fields in dense for index, w in engine.entries(name, mask))
        try:
            for group in chain(layered_work, dense_work):
                in_flight.append(group)
                while len(in_flight) > IN_FLIGHT * workers:
                    done = _finish(in_flight.popleft(), done, total, progress)
            while in_flight:
                done = _finish(in_flight.popleft(), done, total, progress)
        except BaseException:  # a time budget or Ctrl-C: drop the queued groups; the running ones end in ms
            threads.shutdown(wait=False, cancel_futures=True)
            raise
    for name, fields, mask in filled:
        for witness, parameter in zip(witnesses, fields, strict=True):
            _store(witness, name, parameter, engine.fp.E, mask, compact)
    return witnesses


def _half_steps(w: Array, epsilons: Sequence[float], scale: float) -> list[Array]:
    """The half steps of a group's entries ``w`` at each relative step (``central.step_sizes``)."""
    size = np.maximum(np.abs(w), scale)
    return [eps * size for eps in epsilons]


def dense_tail(net: Network) -> int:
    """The index l from which every layer is dense, on one vector per sample: the fast engine's part of
    the network (a dense layer at every step of a sequence is the layered engine's)."""
    l = len(net.layers)
    while l >= 1 and net.layers[l - 1].TYPE == "dense" and not net.layers[l - 1].per_step:
        l -= 1
    return l + 1


def _store(witness: Witness, name: str, fields: Fields, E: float, mask: Array, compact: bool) -> None:
    witness.gradient[name], witness.step[name], witness.left[name], witness.right[name], witness.kink[name] = (
        fields.arrays())
    witness.expected[name] = roundoff_error(E, witness.step[name])
    witness.checked[name] = np.ones(np.count_nonzero(mask), dtype=bool) if compact else mask.copy()


class _Inline:
    """An executor that runs each group at once in this thread: a check too small to pay for starting
    threads (a few thousand entries) is faster without them, and its numbers are the same."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, function: Callable[..., None], *args: Any) -> Future[None]:
        future: Future[None] = Future()
        try:
            future.set_result(function(*args))
        except Exception as exc:  # noqa: BLE001 - kept for future.result(), as a thread's would be
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


Group = tuple[int, Future[Any], Callable[[Any], None] | None]  # entries, its future, who writes its values


def _finish(group: Group, done: int, total: int, progress: Callable[[int, int], None] | None) -> int:
    """Wait for one group (its errors are raised here), write a forked worker's values into the
    witness, and report the entries done."""
    size, future, write = group
    values = future.result()
    if write is not None:
        write(values)
    done += size
    if progress:
        progress(done, total)
    return done
