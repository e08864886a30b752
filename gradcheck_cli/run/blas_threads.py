"""The environment variables that set how many threads numpy's BLAS starts (read when numpy loads)."""

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
