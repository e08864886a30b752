"""Generated networks: the fast engine, its fitted loss forced onto every unit it may stand for, is
the same witness as the plain loop, whatever the layout, activations, biases, loss, reduction, L2,
weight scale and step (large weights and large steps make fits give way to the exact stack)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_same_witness
from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.network import loss_and_kinks
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.witness import unit_stacks as engine  # its constants: CHUNK_ELEMENTS, FIT_MIN
from gradcheck_cli.witness.central import central_differences
from gradcheck_cli.witness.fast import fast_central_differences

# output activation and a loss it can feed
OUTPUTS = [("identity", "sse"), ("identity", "mse"), ("tanh", "half_sse"), ("sigmoid", "binary_cross_entropy"),
           ("softmax", "cross_entropy"), ("identity", "softmax_cross_entropy")]
HIDDEN = sorted(ACTIVATIONS)

networks = st.fixed_dictionaries({
    "layout": st.sampled_from(["column", "row"]),
    "input": st.integers(1, 6),
    "hidden": st.lists(st.tuples(st.integers(1, 5), st.sampled_from(HIDDEN),
                                 st.sampled_from(["per_unit", "shared", "none"])), min_size=1, max_size=3),
    "output": st.sampled_from(OUTPUTS),
    "units": st.integers(2, 4),
    "reduction": st.sampled_from(["sum", "mean"]),
    "l2": st.sampled_from([0, 0.01]),
    "weights": st.sampled_from([0.1, 1.0, 4.0]),  # standard deviation: 4.0 saturates and makes fits give way
    "eps": st.sampled_from([1e-6, 1e-4, 1e-2, 0.2]),
    "batch": st.integers(1, 5),
    "seed": st.integers(0, 1000),
})


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(networks)
def test_fast_engine_with_the_fit_forced_is_the_plain_loop(tmp_path_factory: pytest.TempPathFactory,
                                                          net: dict) -> None:
    activation, loss = net["output"]
    layers = [{"units": u, "activation": a, "bias": b} for u, a, b in net["hidden"]]
    layers.append({"units": net["units"], "activation": activation})
    spec = {"version": 1, "seed": net["seed"], "layout": net["layout"], "input": net["input"], "layers": layers,
            "loss": {"name": loss, "reduction": net["reduction"]}, "l2": net["l2"],
            "init": {"weights": net["weights"]}, "data": {"batch": net["batch"]}}
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    problem = load_problem(path)
    model, x, y = problem.network, problem.x, problem.y
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    naive = central_differences(lambda p: loss_and_kinks(model, p, x, y), params, net["eps"])
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine, "FIT_MIN", 1)
        fast = fast_central_differences(model, params, x, y, net["eps"])
    assert_same_witness(naive, fast)
