"""The ``gradcheck`` console script (and ``python -m gradcheck_cli``), in the process settings of
``run/process_settings.py``.

gradcheck parallelises its witness itself (two threads, or one process per spec with ``--jobs``);
BLAS threads of its own only compete with those, and they keep spinning between calls: with one
BLAS thread the fast engine checks seed 004's 101k network about 15 % faster on this 2-core machine.
glibc's allocator, tuned for the witness's arrays, makes recurrent networks up to 20 % faster. The
settings have to be in place before numpy loads, which is why this module imports nothing else
until they are, and why the package's ``__init__`` does not import numpy. A value the user set wins.
"""

from __future__ import annotations

from gradcheck_cli.run.process_settings import prepare_process


def main() -> None:
    prepare_process()
    from gradcheck_cli.cli import main as run_cli

    run_cli()
