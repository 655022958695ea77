"""The worker client hears of what executors write into run directories (inotify), instead of
looking at every one of them every 50 ms."""

import asyncio
from pathlib import Path

from workers.client.watch import RunWatcher

# The watcher's own timeout is an hour, the test's guard a minute: a change the watcher does not
# wake up for fails the test instead of passing for a sweep's answer.
TIMEOUT = 3600
GUARD = 60


async def changed(watcher: RunWatcher) -> set[str]:
    return await asyncio.wait_for(watcher.changed(TIMEOUT), GUARD)


def run_directory(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


async def write_soon(path: Path, data: bytes) -> None:
    await asyncio.sleep(0.1)
    with open(path, "ab") as file:
        file.write(data)


async def test_a_watched_run_counts_as_changed_at_once_then_when_its_log_grows(tmp_path):
    watcher = RunWatcher()
    assert not watcher.polling
    quiet, busy = run_directory(tmp_path, "quiet"), run_directory(tmp_path, "busy")
    (busy / "logs").mkdir()
    watcher.watch("quiet", quiet)
    watcher.watch("busy", busy)
    assert await changed(watcher) == {"quiet", "busy"}

    # Written by another process in real runs (the step); the kernel reports any writer.
    writing = asyncio.create_task(write_soon(busy / "logs" / "0.log", b"line\n"))
    assert await changed(watcher) == {"busy"}
    await writing
    writing = asyncio.create_task(write_soon(busy / "logs" / "0.log", b"more\n"))
    assert await changed(watcher) == {"busy"}
    await writing
    watcher.close()


async def test_events_are_read_as_they_come_so_the_event_loop_does_not_spin(tmp_path):
    """While the client awaits the master, written logs must not keep the event loop turning:
    an unread inotify descriptor stays readable, and its reader would run at every turn."""
    watcher = RunWatcher()
    run = run_directory(tmp_path, "run")
    (run / "logs").mkdir()
    watcher.watch("run", run)
    assert await changed(watcher) == {"run"}
    wakes = 0
    wake = watcher.wake

    def counted_wake() -> None:
        nonlocal wakes
        wakes += 1
        wake()

    watcher.wake = counted_wake
    loop = asyncio.get_running_loop()
    loop.remove_reader(watcher.inotify.descriptor)
    loop.add_reader(watcher.inotify.descriptor, watcher.wake)
    with open(run / "logs" / "0.log", "ab") as file:
        file.write(b"line\n")
    await asyncio.sleep(0.2)  # the client busy elsewhere: no call to changed()
    assert wakes == 1
    assert await changed(watcher) == {"run"}
    watcher.close()


async def test_a_logs_folder_made_after_the_watch_began_is_watched_too(tmp_path):
    watcher = RunWatcher()
    run = run_directory(tmp_path, "late")
    watcher.watch("late", run)
    assert await changed(watcher) == {"late"}
    (run / "logs").mkdir()  # as the executor does when it starts
    assert await changed(watcher) == {"late"}
    writing = asyncio.create_task(write_soon(run / "logs" / "0.log", b"line\n"))
    assert await changed(watcher) == {"late"}
    await writing
    watcher.close()


async def test_a_replaced_state_file_counts_as_a_change_and_a_forgotten_run_no_longer(tmp_path):
    watcher = RunWatcher()
    run = run_directory(tmp_path, "run")
    watcher.watch("run", run)
    assert await changed(watcher) == {"run"}
    (run / "state.json.tmp").write_text("{}")
    (run / "state.json.tmp").replace(run / "state.json")
    assert await changed(watcher) == {"run"}

    watcher.forget("run")
    (run / "state.json.tmp").write_text("{}")
    (run / "state.json.tmp").replace(run / "state.json")
    assert await watcher.changed(0.2) == set()
    watcher.close()


async def test_without_a_watch_every_run_is_looked_at_every_50_ms(tmp_path):
    watcher = RunWatcher()
    (tmp_path / "file").write_text("")
    # No watch can be added below a file (ENOTDIR), as none can once the system's are used up.
    watcher.watch("run", tmp_path / "file" / "run")
    assert watcher.polling
    # An empty answer: the caller then looks at every run, within POLL_SECONDS.
    assert await asyncio.wait_for(watcher.changed(TIMEOUT), GUARD) == set()
