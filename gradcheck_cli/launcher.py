"""The ``gradcheck`` console script (and ``python -m gradcheck_cli``), with one BLAS thread.

gradcheck parallelises its witness itself (two threads, or one process per spec with ``--jobs``);
BLAS threads of its own only compete with those, and they keep spinning between calls: with one
BLAS thread the fast engine checks seed 004's 101k network about 15 % faster on this 2-core machine.
The setting has to be in place before numpy loads BLAS, which is why this module imports nothing
else until it is set, and why the package's ``__init__`` does not import numpy. A value the user
set wins.

It also turns off pydantic's plugin discovery, which scans every installed package's entry points
at import (about 35 ms of each start here); gradcheck uses no pydantic plugin.
"""

from __future__ import annotations

import os

from gradcheck_cli.run.blas_threads import BLAS_THREAD_VARIABLES


def main() -> None:
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from gradcheck_cli.cli import main as run_cli

    run_cli()
