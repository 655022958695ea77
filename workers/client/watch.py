"""Wakes the worker client when an executor writes into a run directory, instead of it looking
at every run directory every 50 ms.

Linux's inotify, through ctypes (standard library only, like the rest of the worker client):
each run directory is watched for new and replaced files (state.json is replaced at every
change, executor.pid written by the fork server, logs/ created), and its logs/ folder for
writes, which the kernel reports whoever writes (the step's own process writes its log). The
executor knows nothing of it: it writes its files as before and runs on, with or without a
worker client.

What no file tells is looked at every SWEEP_SECONDS: an executor that died without a final
state, a run waiting to retry. Without inotify (another system, or no watch left:
fs.inotify.max_user_watches), every run directory is looked at every POLL_SECONDS, as before.
"""

import asyncio
import ctypes
import errno
import logging
import os
import struct
from pathlib import Path

logger = logging.getLogger("orchestra.worker")

POLL_SECONDS = 0.05
SWEEP_SECONDS = 0.5

IN_MODIFY = 0x00000002
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
RUN_DIRECTORY_EVENTS = IN_MOVED_TO | IN_CREATE
LOGS_EVENTS = IN_MODIFY | IN_CREATE
EVENT = struct.Struct("iIII")  # watch descriptor, mask, cookie, length of the name that follows


class Inotify:
    """An inotify instance; OSError if the system has none."""

    def __init__(self):
        try:
            self.libc = ctypes.CDLL(None, use_errno=True)
            for function in ("inotify_init1", "inotify_add_watch", "inotify_rm_watch"):
                getattr(self.libc, function)  # a C library without them: not Linux
        except (OSError, AttributeError) as error:
            raise OSError(errno.ENOSYS, f"no inotify: {error}") from None
        self.descriptor = self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.descriptor < 0:
            raise self.error("inotify_init1")

    def error(self, call: str) -> OSError:
        number = ctypes.get_errno()
        return OSError(number, f"{call}: {os.strerror(number)}")

    def add(self, path: Path, mask: int) -> int:
        watch = self.libc.inotify_add_watch(self.descriptor, os.fsencode(path), mask)
        if watch < 0:
            raise self.error(f"inotify_add_watch {path}")
        return watch

    def remove(self, watch: int) -> None:
        self.libc.inotify_rm_watch(self.descriptor, watch)  # already gone with its directory: fine

    def read(self) -> list[tuple[int, int, str]]:
        """The events waiting (watch, mask, name), without blocking."""
        events = []
        while True:
            try:
                data = os.read(self.descriptor, 65536)
            except BlockingIOError:
                return events
            position = 0
            while position < len(data):
                watch, mask, _, length = EVENT.unpack_from(data, position)
                position += EVENT.size
                name = data[position:position + length].rstrip(b"\0").decode(errors="replace")
                position += length
                events.append((watch, mask, name))

    def close(self) -> None:
        os.close(self.descriptor)


class RunWatcher:
    """Which run directories changed since the last look, waited for without polling."""

    def __init__(self):
        try:
            self.inotify: Inotify | None = Inotify()
        except OSError as error:
            logger.warning("run directories are looked at every %.2f s: %s", POLL_SECONDS, error)
            self.inotify = None
        # Watch descriptor -> (run identifier, the run directory if that is what it watches).
        self.watches: dict[int, tuple[str, Path | None]] = {}
        self.pending: set[str] = set()
        self.woken = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def polling(self) -> bool:
        return self.inotify is None

    def watch(self, identifier: str, path: Path) -> None:
        """Report changes of this run directory from now on; it counts as changed now."""
        self.pending.add(identifier)
        self.woken.set()
        if self.inotify is None:
            return
        try:
            self.watches[self.inotify.add(path, RUN_DIRECTORY_EVENTS)] = (identifier, path)
            if (path / "logs").is_dir():
                self.watches[self.inotify.add(path / "logs", LOGS_EVENTS)] = (identifier, None)
        except OSError as error:
            if error.errno == errno.ENOENT:
                return  # deleted meanwhile
            logger.warning("run directories are looked at every %.2f s from now on: %s", POLL_SECONDS, error)
            self.stop_watching()

    def forget(self, identifier: str) -> None:
        """The run directory is deleted: no more changes to report."""
        self.pending.discard(identifier)
        for watch, (run, _) in list(self.watches.items()):
            if run == identifier:
                del self.watches[watch]
                if self.inotify is not None:
                    self.inotify.remove(watch)

    async def changed(self, timeout: float) -> set[str]:
        """The runs whose directories changed, once some did or after `timeout` (polling: after
        POLL_SECONDS at most, every run then counting as changed, which the caller knows)."""
        if self.inotify is None:
            await asyncio.sleep(min(timeout, POLL_SECONDS))
            return set()
        self.listen()
        if not self.pending:
            self.woken.clear()
            try:
                await asyncio.wait_for(self.woken.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        self.collect()
        changed, self.pending = self.pending, set()
        return changed

    def listen(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            # A new event loop (a test's, a restarted client's): the reader moves to it.
            if self.loop is not None and not self.loop.is_closed():
                self.loop.remove_reader(self.inotify.descriptor)
            self.woken = asyncio.Event()
            loop.add_reader(self.inotify.descriptor, self.wake)
            self.loop = loop

    def wake(self) -> None:
        # The events are read here, not when the client next looks: until they are read the
        # descriptor stays readable, and the event loop would call this again at each turn
        # while the client awaits the master (hundreds of turns per run).
        self.collect()
        self.woken.set()

    def collect(self) -> None:
        if self.inotify is None:
            return  # no longer watching (stop_watching): every run is looked at
        for watch, mask, name in self.inotify.read():
            if mask & IN_Q_OVERFLOW:
                # The kernel dropped events: any run may have changed.
                self.pending.update(identifier for identifier, _ in self.watches.values())
                continue
            if watch not in self.watches:
                continue
            identifier, run_directory = self.watches[watch]
            if mask & IN_IGNORED:
                del self.watches[watch]  # its directory was deleted
                continue
            self.pending.add(identifier)
            if run_directory is not None and name == "logs" and mask & IN_CREATE:
                # The executor made its logs folder: watch it before the run is looked at,
                # so that no write after that look goes unreported.
                try:
                    self.watches[self.inotify.add(run_directory / "logs", LOGS_EVENTS)] = (identifier, None)
                except OSError as error:
                    if error.errno != errno.ENOENT:
                        logger.warning("run directories are looked at every %.2f s from now on: %s",
                                       POLL_SECONDS, error)
                        self.stop_watching()
                        return

    def stop_watching(self) -> None:
        """Fall back to polling (a watch could not be added)."""
        if self.inotify is None:
            return
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.inotify.descriptor)
        self.inotify.close()
        self.inotify = None
        self.watches.clear()
        self.loop = None

    def close(self) -> None:
        self.stop_watching()
