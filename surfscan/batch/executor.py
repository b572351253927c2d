"""Running the per-file tasks: a local process pool, or a Dask cluster.

Both executors give each worker one file at a time (a worker reads a file
only when it starts on it) and yield results as they finish. The local pool
keeps at most two tasks per worker process in flight (one running, one
queued), so when a worker dies (a crash in native code, the kernel's OOM
killer) the files it might have been holding are known: they are tried again
one at a time, and the one that kills its worker alone is recorded as an
error, while the batch goes on.

``dask.distributed`` is imported only when a scheduler address is given.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from ..errors import SurfscanError
from .tasks import BatchSettings, analyse_file, path_key

__all__ = ["LocalExecutor", "DaskExecutor", "make_executor", "crash_result"]


def crash_result(path: str, settings: BatchSettings, why: str) -> dict[str, Any]:
    """The error result of a file whose worker died or was lost."""
    return {"path": path, "content_hash": path_key(path), "settings_hash": settings.hash, "status": "error",
            "error": f"{path}: {why}", "roughness": {}, "units": {}, "protrusions": {}, "objects": None,
            "warnings": [], "timings": {}, "worker": None}


def _collected(fut: Any, path: str, settings: BatchSettings, where: str) -> dict[str, Any]:
    """``fut.result()``, or this file's error result when the result cannot come back from ``where``.

    A lost process pool (``BrokenProcessPool``) is raised for the caller to retry its files.
    """
    try:
        return fut.result()
    except BrokenProcessPool:
        raise
    except Exception as exc:  # must be broad: analyse_file records every failure, so this is a lost result
        return crash_result(path, settings, f"{where} failed ({type(exc).__name__}: {exc})")


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:  # the batch was killed: do not linger as an orphan
            os._exit(1)


_BLAS = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
         ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
         ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
         ("openblas_get_num_threads", "openblas_set_num_threads"))


def _thread_knobs() -> list[tuple[Any, Any]]:
    """(get, set) pairs for the thread counts of OpenCV and of every loaded OpenBLAS."""
    knobs = []
    if "cv2" in sys.modules:
        cv2 = sys.modules["cv2"]
        knobs.append((cv2.getNumThreads, cv2.setNumThreads))
    try:
        import ctypes

        with open("/proc/self/maps") as fh:
            libs = {parts[-1] for line in fh if len(parts := line.split()) >= 6
                    and re.search(r"openblas[^/]*\.so", parts[-1])}
        for lib in sorted(libs):
            handle = ctypes.CDLL(lib)
            knobs += [(getattr(handle, g), getattr(handle, s)) for g, s in _BLAS
                      if hasattr(handle, g) and hasattr(handle, s)]
    except OSError:  # not Linux, or a library that cannot be opened again: leave it as it is
        pass
    return knobs


@contextmanager
def _one_thread_per_process() -> Iterator[None]:
    """Fork worker processes with OpenCV and BLAS at one thread, then restore the caller's settings.

    N processes for N cores, no oversubscription. The counts are set in the
    parent around the fork: changing OpenCV's thread count inside a forked
    child can hang on locks copied from the parent's thread pool.
    """
    knobs = _thread_knobs()
    before = [get() for get, _ in knobs]
    try:
        for _, set_ in knobs:
            set_(1)
        yield
    finally:
        for (_, set_), n in zip(knobs, before):
            set_(n)


def _worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the batch process
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = "1"  # for libraries loaded from now on


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class LocalExecutor:
    """A pool of local worker processes, one file per process at a time.

    Parameters
    ----------
    workers : int, optional
        Number of processes; default the number of CPU cores.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.where = f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None
        self._fresh = self._new_pool()  # forked now, before a progress bar starts its thread

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=_worker_init,
                                         initargs=(os.getpid(),))
        with _one_thread_per_process():
            self._pool.submit(os.getpid).result()  # start the worker processes now (all at once under fork)
        return self._pool

    def results(self, paths: Iterable[str], settings: BatchSettings) -> Iterator[dict[str, Any]]:
        """Analyse ``paths``; yield each file's result as it finishes (in no set order)."""
        pending = collections.deque(paths)
        suspects: collections.deque[str] = collections.deque()
        running: dict[Future, str] = {}
        solo: str | None = None  # a crash suspect running alone
        pool, self._fresh = (self._fresh or self._new_pool()), None
        while pending or suspects or running:
            broken = False
            try:
                if suspects and not running:
                    solo = suspects[0]
                    running[pool.submit(analyse_file, solo, settings)] = suspects.popleft()
                while pending and not suspects and len(running) < 2 * self.workers:  # one queued per worker
                    running[pool.submit(analyse_file, pending[0], settings)] = pending[0]
                    pending.popleft()
            except BrokenProcessPool:
                broken = True  # the files still running are lost with the pool
            lost = []
            done = wait(running, return_when=FIRST_COMPLETED)[0] if running and not broken else set()
            for fut in done:
                path = running.pop(fut)
                try:
                    result = _collected(fut, path, settings, "the worker")
                except BrokenProcessPool:
                    lost.append(path)
                    continue
                yield result
            if not lost and not broken:
                if not running:
                    solo = None
                continue
            lost += list(running.values())
            running.clear()
            if solo is not None and lost == [solo]:
                yield crash_result(solo, settings, "the worker process died while analysing this file "
                                   "(a crash in a reader, or out of memory)")
            else:
                suspects.extend(lost)
            solo = None
            pool = self._new_pool()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._pool is not None:  # interrupted: do not wait for running files
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
        self.close()


class DaskExecutor:
    """The same tasks on a ``dask.distributed`` cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client
        A scheduler address (``tcp://host:8786``) or a connected client.
    """

    def __init__(self, scheduler: Any) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise SurfscanError("--scheduler needs dask.distributed: pip install 'surfscan[dask]'") from None
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            try:
                self.client, self._own = Client(str(scheduler), timeout="20s"), True
            except OSError as exc:
                raise SurfscanError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.workers = threads
        self.where = f"Dask cluster {self.client.scheduler.address} ({threads} worker thread{'s' if threads != 1 else ''})"

    def results(self, paths: Iterable[str], settings: BatchSettings) -> Iterator[dict[str, Any]]:
        """Analyse ``paths`` on the cluster; yield each file's result as it finishes."""
        from distributed import as_completed

        pending = collections.deque(paths)
        window = 2 * max(1, sum(self.client.nthreads().values()))
        names: dict[str, str] = {}

        def submit() -> Any:
            path = pending.popleft()
            fut = self.client.submit(analyse_file, path, settings, pure=False)
            names[fut.key] = path
            return fut

        running = as_completed([submit() for _ in range(min(window, len(pending)))])
        for fut in running:
            path = names.pop(fut.key)
            result = _collected(fut, path, settings, "the Dask task")  # a lost or killed worker: an error of this file
            fut.release()
            yield result
            if pending:
                running.add(submit())

    def close(self) -> None:
        """Disconnect (only a client this executor opened itself)."""
        if self._own:
            self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(workers: int | None = None, scheduler: Any = None) -> LocalExecutor | DaskExecutor:
    """A Dask executor when ``scheduler`` is given, otherwise a local process pool."""
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)
