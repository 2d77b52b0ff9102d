"""Killable read-only worker processes: the only reliable way to stop a runaway query.

Why processes: pyoxigraph has no query timeout and holds a GIL-free Rust thread until the query
ends, so the only way to stop a query is to kill the process running it. :class:`QueryPool` keeps
warm workers (each opens the store with ``Store.read_only``, or copies it into memory:
:func:`sparql.run.open_store`) and replaces a worker it had to kill,
so one bad query never takes the CLI, the endpoint or the app down.

Why one spawner thread: Linux delivers ``PR_SET_PDEATHSIG`` when the *thread* that started a child
exits. Workers are (re)started from request threads of the endpoint and from Streamlit script
threads, which end quickly; :class:`_Spawner` starts every worker from one thread that lives as long
as the process, so "die with the parent" means the process (``tests/test_sparql_engine.py``,
``test_workers_outlive_the_thread_that_started_them``).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .errors import ERRORS, EngineBusy, EngineError, QueryTimeout, SparqlError, one_line
from .results import QueryResult
from .run import open_store, run_query
from .search import ScoreMap


def _worker_main(conn: Connection, store_path: str, in_memory: bool = False) -> None:
    """Open the store read-only once (or copy it into memory), then answer (query, limit, scores)
    requests until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent, which kills us
    try:
        store = open_store(store_path, in_memory=in_memory)
    except SparqlError as e:
        conn.send(("error", type(e).__name__, str(e)))
        return
    except Exception as e:
        conn.send(("error", "EngineError", f"cannot open the store at {store_path}: {one_line(e)}"))
        return
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        text, limit, scores = request
        try:
            reply: tuple[Any, ...] = ("ok", run_query(store, text, limit=limit, scores=scores, wire=True))
        except SparqlError as e:
            reply = ("error", type(e).__name__, str(e))
        except BaseException as e:
            reply = ("error", "EngineError", f"query failed: {one_line(e)}")
        try:
            conn.send(reply)
        except Exception as e:  # e.g. a result that cannot be pickled
            conn.send(("error", "EngineError", f"cannot return the result: {one_line(e)}"))


def worker_entry() -> None:
    """Entry point of a worker process started by :class:`_Worker` (``python -c``)."""
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    with contextlib.suppress(Exception):  # Linux: die with the parent even in the middle of a query
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[5]):  # the parent died before prctl took effect
        return
    conn = _Duplex(Connection(read_fd, writable=False), Connection(write_fd, readable=False))
    _worker_main(conn, sys.argv[3], sys.argv[6] == "memory")  # type: ignore[arg-type]


class _Duplex:
    """Two one-way pipe connections used as one (what ``multiprocessing.Pipe`` gives, across exec)."""

    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, obj: Any) -> None:
        self.outgoing.send(obj)

    def recv(self) -> Any:
        return self.incoming.recv()

    def poll(self, timeout: float) -> bool:
        return self.incoming.poll(timeout)

    def close(self) -> None:
        self.incoming.close()
        self.outgoing.close()


_BOOT = "import sys; sys.path[:0] = __import__('json').loads(sys.argv[4]); import sparql.workers as w; w.worker_entry()"


class _Worker:
    """A worker started with ``python -c`` rather than multiprocessing's spawn, which re-runs the
    parent's ``__main__`` (fatal under Streamlit, ``python -`` or notebooks) and fork, which is
    unsafe in a threaded server."""

    def __init__(self, store_path: str, in_memory: bool = False) -> None:
        self.started = time.monotonic()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BOOT,
                    str(to_child_r),
                    str(from_child_w),
                    store_path,
                    json.dumps(sys.path),
                    str(os.getpid()),
                    "memory" if in_memory else "disk",
                ],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.conn = _Duplex(Connection(from_child_r, writable=False), Connection(to_child_w, readable=False))
        self.ready = False

    def poll_ready(self, timeout: float) -> bool:
        """Whether the worker has opened its store, waiting up to ``timeout`` s; raises if it failed."""
        if self.ready:
            return True
        if not self.conn.poll(timeout):
            return False
        try:
            msg = self.conn.recv()
        except (EOFError, OSError):
            raise EngineError("the query worker exited while opening the store (out of memory?)") from None
        if msg[0] != "ready":
            raise ERRORS.get(msg[1], EngineError)(msg[2])
        self.ready = True
        return True

    def wait_ready(self, timeout: float) -> None:
        if not self.poll_ready(timeout):
            raise EngineError(f"query worker did not start within {timeout:g} s")

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(2)
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
            self.proc.wait(1)
        self.kill()


class _Spawner:
    """Starts every worker from one thread that lives as long as the process.

    Linux delivers PR_SET_PDEATHSIG when the *thread* that started the child exits, not the process.
    Workers are (re)started from request threads of a threaded server or from Streamlit script
    threads, which end quickly; starting them here instead makes "die with the parent" mean the
    process, and keeps it from killing healthy workers when a request thread finishes.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[str, bool, Future[_Worker]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, store_path: str, in_memory: bool = False) -> _Worker:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="policykg-sparql-spawner", daemon=True
                )
                self._thread.start()
        fut: Future[_Worker] = Future()
        self._requests.put((store_path, in_memory, fut))
        return fut.result()

    def _loop(self) -> None:
        while True:
            path, in_memory, fut = self._requests.get()
            try:
                fut.set_result(_Worker(path, in_memory))
            except BaseException as e:
                fut.set_exception(e)


_SPAWNER = _Spawner()


class QueryPool:
    """Warm worker processes over one store; a query that overruns its time limit kills its worker.

    ``size`` workers answer queries in parallel; a caller waits up to ``wait`` seconds for a free one
    (default: the query's timeout) and then gets :class:`EngineBusy`.
    """

    def __init__(self, store_path: str | Path, size: int = 1, *, in_memory: bool = False,
                 start_timeout: float | None = None) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store_path = str(store_path)
        self.size = size
        self.in_memory = in_memory
        # opening a store on disk takes a second; copying one into memory about 17 us per quad
        # (75 s for the 4.41 M quads of 1,000 plans: bench.memory_vs_disk), so an hour covers ~200 M
        self.start_timeout = start_timeout if start_timeout is not None else (3600.0 if in_memory else 60.0)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _SPAWNER.start(self.store_path, self.in_memory)
        with self._lock:
            self._workers.append(w)
        return w

    def _replace(self, w: _Worker) -> None:
        self._retire(w)
        if not self._closed:
            self._idle.put(self._spawn())

    def _ready(self, w: _Worker, timeout: float) -> None:
        """Wait until ``w`` has its store. One opening it on disk is ready in a second: wait up to the
        start limit. One copying it into memory takes minutes: a query waits only as long as its own
        time limit, then gets :class:`EngineBusy`."""
        left = self.start_timeout - (time.monotonic() - w.started)
        try:
            if w.poll_ready(max(0.0, min(timeout, left) if self.in_memory else left)):
                return
        except SparqlError:
            self._replace(w)
            raise
        age = time.monotonic() - w.started
        if age < self.start_timeout:
            self._idle.put(w)
            raise EngineBusy(f"the query worker is still copying the store into memory (for {age:.0f} s "
                             "so far); try again shortly")
        self._replace(w)
        raise EngineError(f"query worker did not start within {self.start_timeout:g} s")

    def _retire(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)

    def warm_up(self) -> None:
        """Wait until every idle worker has opened the store (so the first query's timer is fair)."""
        held = []
        try:
            while True:
                held.append(self._idle.get_nowait())
        except queue.Empty:
            pass
        try:
            for w in held:
                w.wait_ready(self.start_timeout)
        finally:
            for w in held:
                self._idle.put(w)

    def run(
        self,
        text: str,
        *,
        timeout: float,
        limit: int,
        scores: ScoreMap | None = None,
        wait: float | None = None,
    ) -> QueryResult:
        if self._closed:
            raise EngineError("the query engine is closed")
        try:
            w = self._idle.get(timeout=timeout if wait is None else wait)
        except queue.Empty:
            raise EngineBusy(f"all {self.size} query workers are busy; try again shortly") from None
        self._ready(w, timeout)
        healthy = False
        try:
            w.conn.send((text, limit, scores or {}))
            if not w.conn.poll(timeout):
                raise QueryTimeout(
                    f"query stopped after {timeout:g} s (time limit); narrow it down, add a LIMIT, "
                    "or allow more time (--timeout)"
                )
            msg = w.conn.recv()
            healthy = True
        except (EOFError, OSError, BrokenPipeError):
            raise EngineError("the query worker died (out of memory?); it has been restarted") from None
        finally:
            if healthy or self._closed:
                self._idle.put(w) if not self._closed else w.stop()
            else:
                self._replace(w)
        if msg[0] == "ok":
            result: QueryResult = msg[1]
            return result
        raise ERRORS.get(msg[1], EngineError)(msg[2])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for w in workers:
            w.stop()
