"""Extraction in worker processes, with a time limit per page that is really enforced.

A thread cannot be stopped, so a page that sends the parser into a very long loop would hold
an extraction thread for ever; a few of them and the crawl stalls. Here each page goes to one of
N worker processes; a worker that has not answered within `timeout` seconds is killed and
replaced, and the page fails with kind "extract_timeout" (a worker that dies: "extract_crashed").
Pages and results cross the process boundary by pickling: bytes in, a frozen Extracted out.

Why not concurrent.futures.ProcessPoolExecutor: it cannot kill the one worker running a task
that timed out; terminating it breaks the whole pool and every task in flight with it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Callable

from archive.errors import ExtractionError

log = logging.getLogger(__name__)

#: An extraction function importable by name in a worker (pickled by reference): archive.extract.extract.
#: Called as function(body, url, content_type=...): the Content-Type header the page was served with, or None.
Extractor = Callable[..., Any]


def _serve(connection: Connection, function: Extractor) -> None:
    """A worker's loop: (body, url, content_type) in, ("ok", result) or ("error", kind, message) out; None stops it.

    Ctrl-C in a terminal reaches the whole process group: the crawl process decides how to stop
    (after the pages in flight, which still need their extraction), so workers ignore it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return  # the crawl process went away
        if task is None:
            return
        body, url, content_type = task
        try:
            reply: tuple[Any, ...] = ("ok", function(body, url, content_type=content_type))
        except ExtractionError as exc:  # sent as plain values: ExtractionError(kind, msg) does not unpickle
            reply = ("error", exc.kind, str(exc))
        except Exception as exc:  # noqa: BLE001 - whatever happens, the parent gets an answer
            reply = ("error", "extract_failed", f"{type(exc).__name__}: {exc}")
        try:
            connection.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not pickle
            connection.send(("error", "extract_failed", f"result not sendable: {type(exc).__name__}: {exc}"))


class _Worker:
    """One process and our end of its pipe."""

    def __init__(self, context: Any, function: Extractor) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(child, function), daemon=True,
                                                    name="archive-extract")
        self.process.start()
        child.close()

    def call(self, body: bytes, url: str, content_type: str | None, timeout: float) -> Any:
        self.connection.send((body, url, content_type))
        if not self.connection.poll(timeout):
            raise TimeoutError
        reply = self.connection.recv()  # EOFError when the worker died
        if reply[0] == "ok":
            return reply[1]
        raise ExtractionError(reply[1], reply[2])

    def stop(self, wait: float = 1.0) -> None:
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


#: Imported once by the fork server that workers are forked from (see pipelines.warm).
PRELOAD = ["pipelines.warm"]


def _context(start_method: str | None) -> Any:
    """Never a plain fork: the crawl process has threads. By default a fork server that has imported
    the extractor and built dateparser's tables once (PRELOAD), so that each worker (and each one
    replaced after a timeout) starts with them instead of paying seconds of CPU; spawn where there is
    no fork server."""
    if start_method is None:
        start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the workers' fork server now, in the background, where workers are forked from one.

    It imports the extractor and builds dateparser's tables (PRELOAD, 2 CPU-s) while the crawl
    process imports Scrapy and opens the archive, on the other core, instead of after the first
    page arrives, when every page waits for it. The workers themselves still start with the first
    page to extract (ExtractorPool._start_all).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver  # noqa: PLC0415 - POSIX only

        _context("forkserver")
        forkserver.ensure_running()


class ExtractorPool:
    """`workers` processes running `function(body, url, content_type=...)`, each call limited to `timeout` seconds.

    `extract()` is a coroutine for the reactor's loop; `run()` is the same call, blocking.
    """

    def __init__(self, function: Extractor, workers: int = 2, timeout: float = 30.0,
                 start_method: str | None = None) -> None:
        self.function, self.timeout = function, timeout
        self.context = _context(start_method)
        self.workers = max(1, workers)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._started = False
        self._starting = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="extract-wait")
        self.replaced = 0

    def _start(self) -> _Worker:
        worker = _Worker(self.context, self.function)
        self._all.append(worker)
        return worker

    async def extract(self, body: bytes, url: str, content_type: str | None = None) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self.run, body, url, content_type)

    def _start_all(self) -> None:
        """The processes start with the first page to extract, not with the pool: a crawl whose
        pages are all unchanged (304s, same bytes) never pays for starting and importing them."""
        with self._starting:
            if not self._started:
                for _ in range(self.workers):
                    self._idle.put(self._start())
                self._started = True

    def run(self, body: bytes, url: str, content_type: str | None = None) -> Any:
        """The function's result, or ExtractionError (including extract_timeout / extract_crashed)."""
        if not self._started:
            self._start_all()
        worker = self._idle.get()
        started = time.monotonic()
        try:
            return worker.call(body, url, content_type, self.timeout)
        except TimeoutError:
            log.warning("extraction of %s took over %.0f s: worker killed, page skipped", url, self.timeout)
            worker = self._replace(worker)
            raise ExtractionError("extract_timeout", f"extraction took longer than {self.timeout:g} s") from None
        except (EOFError, OSError, BrokenPipeError) as exc:
            log.warning("extraction worker died on %s (%s): replaced", url, type(exc).__name__)
            worker = self._replace(worker)
            raise ExtractionError("extract_crashed", f"the extraction worker died after "
                                                     f"{time.monotonic() - started:.1f} s") from None
        finally:
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self._all.remove(worker)
        self.replaced += 1
        return self._start()

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        for worker in list(self._all):
            worker.stop()
        self._all.clear()
