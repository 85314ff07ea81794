"""Keep BLAS single-threaded around code that alternates small BLAS calls with numba kernels.

On a 2-core machine OpenBLAS's worker threads keep spinning for a while after every call. When
each time step makes a few BLAS calls on tiny matrices (40 x 40 triangular solves, Cholesky rows)
and then runs a ``prange`` numba kernel, the spinning BLAS threads and numba's workers fight for
the same cores: a DMFT solve with M = 1500, T = 40 took 0.36 s instead of 0.02 s (measured
2026-11-22).  Large matrix products (``dense.simulate``) keep all BLAS threads.
"""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def single_threaded_blas():
    """Context manager limiting the BLAS libraries loaded in this process to one thread."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
