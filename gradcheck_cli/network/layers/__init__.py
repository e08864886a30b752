"""The layer types a network is a stack of: the explicit registry.

Adding a layer type is one module here (its spec model, its parameters, its forward and backward
side by side, its equations; see ``base.py``), its name in ``LAYER_TYPES``, and its test file
``tests/layers/test_<type>.py``. Nothing else in the code changes: the spec reader, the network
loop, parameter names, the L2 term, derivation names, ``explain`` and the memory guard read it here.

A layer type's module is imported the first time it is asked for, so a spec of dense layers starts
without building the other types' models (each a pydantic model: tens of milliseconds together).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

# each name is the layer type's spec value (its module's TYPE) and the name of its module here
_NAMES = ("dense", "conv2d", "maxpool2d", "avgpool2d", "batchnorm", "layernorm", "dropout", "flatten",
          "rnn", "lstm", "gru", "embedding")


class _LayerTypes(Mapping[str, ModuleType]):
    """The registry, name -> layer type module, importing each module when it is first looked up."""

    def __getitem__(self, name: str) -> ModuleType:
        if name not in _NAMES:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(_NAMES)

    def __len__(self) -> int:
        return len(_NAMES)


LAYER_TYPES: Mapping[str, ModuleType] = _LayerTypes()


def type_of(entry: object) -> object:
    """The layer type an entry names: its ``type:`` key, dense when it has none."""
    return entry.get("type", "dense") if isinstance(entry, dict) else getattr(entry, "type", None)
