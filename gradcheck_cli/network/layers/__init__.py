"""The layer types a network is a stack of: the explicit registry.

Adding a layer type is one module here (its spec model, its parameters, its forward and backward
side by side, its equations; see ``base.py``), one line in ``LAYER_TYPES``, and its test file
``tests/layers/test_<type>.py``. Nothing else in the code changes: the spec reader, the network
loop, parameter names, the L2 term, derivation names, ``explain`` and the memory guard read it here.
"""

from __future__ import annotations

from types import ModuleType

from gradcheck_cli.network.layers import avgpool2d, batchnorm, conv2d, dense, dropout, flatten, layernorm, maxpool2d

LAYER_TYPES: dict[str, ModuleType] = {module.TYPE: module for module in (
    dense, conv2d, maxpool2d, avgpool2d, batchnorm, layernorm, dropout, flatten,
)}


def type_of(entry: object) -> object:
    """The layer type an entry names: its ``type:`` key, dense when it has none."""
    return entry.get("type", "dense") if isinstance(entry, dict) else getattr(entry, "type", None)
