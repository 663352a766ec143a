"""Run per-workbook work (pipeline.recalc_safely, rollup.practice_figures) on a Dask
cluster instead of the local process pool.

`--scheduler ADDRESS` connects to a running scheduler (`dask scheduler`, workers started
with `dask worker ADDRESS`); `--scheduler local` starts a LocalCluster of worker
processes on this machine (n_workers from --jobs, else 2). Each task is one workbook
path: the workers need payorxl installed (the same version) and the files on a path
they all see (a shared folder mounted at the same place). The functions sent are plain
picklable module functions with no global state, so a worker's result is what the
process pool gives.

Dask is an optional extra (`pip install "payorxl[cluster]"`); without it, a clear
one-line error.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import PayorxlError

LOCAL = "local"
MISSING = ('--scheduler needs Dask, which is not installed; install it with: pip install "payorxl[cluster]"')


def _distributed():
    try:
        import distributed
    except ImportError:
        raise PayorxlError(MISSING) from None
    return distributed


@contextmanager
def client(scheduler: str, jobs: int | None = None):
    """A dask.distributed Client on `scheduler` (an address, or "local" for a LocalCluster
    of `jobs` worker processes, one thread each); closed (and the local cluster stopped)
    on exit."""
    distributed = _distributed()
    if scheduler == LOCAL:
        # one thread per worker process: the work is CPU-bound pandas, parallel over processes
        with distributed.LocalCluster(n_workers=jobs or 2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as c:
            yield c
        return
    try:
        c = distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as e:
        raise PayorxlError(f"could not reach the Dask scheduler at {scheduler} ({type(e).__name__}: {e}); "
                           "start one with 'dask scheduler' and workers with 'dask worker ADDRESS'") from None
    with c:
        yield c


def run(fn: Callable, args: Iterable[tuple], scheduler: str, jobs: int | None = None) -> Iterator[Any]:
    """fn(*a) for each a of `args` on the cluster, yielded as each finishes (any order)."""
    distributed = _distributed()
    args = list(args)
    with client(scheduler, jobs) as c:
        futures = [c.submit(fn, *a, pure=False) for a in args]
        for future in distributed.as_completed(futures):
            yield future.result()
