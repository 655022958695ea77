"""The fork server: starts executors by forking a process that has already imported them.

A fresh interpreter per run costs about 66 ms of CPU (bench/README.md); a fork of a small
single-threaded process that already imported the executor costs a few. The worker client
starts one fork server lazily, at its first run, as

    python -I -S workers/client/forkserver.py FD RUNS_ROOT

(standard library only, no Django, no site-packages, the worker's environment without its
secrets). It reads run directories, one per line, from the socket FD; for each it forks a
child that calls `setsid()`, resets its signal handlers, keeps only stdin (/dev/null), stdout
and stderr (RUN_DIR/executor.out), runs the executor and leaves with `os._exit`, never through
the server's own exit path. The child starts with RUN_DIR as its working directory: that is
how a client tells a forked executor from a process that reused its pid. The server writes
RUN_DIR/executor.pid, then answers with the pid.

An executor forked here is as independent as a spawned one: its own session, no descriptor
of the server or of the worker client. When the worker client goes away (whatever the way,
SIGKILL included), the socket reads end of file and the server exits without touching the
executors it started; the system reaps them when they end. RUNS_ROOT is only in the command
line so that the server and its executors are recognisable as this worker's processes.

`ForkServer` is the worker client's side. Any failure makes the client fall back to spawning
a fresh interpreter per run (`WorkerClient.start_executor`).
"""

import os
import select
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# How long the client waits for a fork's answer before it gives up on the server (its first
# answer includes the server's own start).
ANSWER_TIMEOUT_SECONDS = 30
REAP_INTERVAL_SECONDS = 1.0


class ForkServerError(Exception):
    pass


# The client side ------------------------------------------------------------------------------


class ForkServer:
    """A fork server this worker client started, and the socket to it."""

    def __init__(self, runs_root, environment: dict[str, str]):
        import subprocess

        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.join(HERE, "forkserver.py"),
                 str(theirs.fileno()), str(runs_root)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(theirs.fileno(),),
                # Its own session: a Ctrl-C at the worker client's terminal is not for it; it
                # leaves when the worker client does (end of file on the socket).
                start_new_session=True, env=environment,
            )
        finally:
            theirs.close()
        ours.settimeout(ANSWER_TIMEOUT_SECONDS)
        self.socket = ours
        self.buffer = b""

    def start(self, run_directory) -> int:
        """Fork an executor for `run_directory`; its pid. ForkServerError if that failed."""
        try:
            self.socket.sendall(os.fsencode(str(run_directory)) + b"\n")
            while b"\n" not in self.buffer:
                data = self.socket.recv(4096)
                if not data:
                    raise ForkServerError("the fork server ended")
                self.buffer += data
        except OSError as error:  # socket.timeout included
            raise ForkServerError(f"no answer from the fork server: {error!r}") from None
        line, self.buffer = self.buffer.split(b"\n", 1)
        answer = line.decode(errors="replace")
        if not answer.isdigit():
            raise ForkServerError(f"the fork server failed: {answer}")
        return int(answer)

    def close(self) -> None:
        """Ask the server to leave (end of file); its executors carry on."""
        self.socket.close()
        try:
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()
            self.process.wait()


# The server side ------------------------------------------------------------------------------


def write_pid(run_directory: str, pid: int) -> None:
    path = os.path.join(run_directory, "executor.pid")
    with open(f"{path}.tmp", "w") as file:
        file.write(str(pid))
    os.replace(f"{path}.tmp", path)


def run_executor(executor, run_directory: str) -> None:
    """In the forked child: become a detached executor for `run_directory`; never returns."""
    status = 1
    try:
        os.setsid()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(number, signal.SIG_DFL)
        # What a fresh interpreter has: Ctrl-C raises KeyboardInterrupt; SIGPIPE is ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        null = os.open(os.devnull, os.O_RDONLY)
        output = os.open(os.path.join(run_directory, "executor.out"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(null)
        os.close(output)
        sys.argv = [executor.__file__, run_directory]
        status = executor.main(sys.argv)
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # Not the server's exit path: no atexit handlers, no buffers of the server's.
            os._exit(status)


def fork_executor(executor, run_directory: str) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    # The child is in its run directory from its first instant: a client that checks the pid
    # at once knows it as the run's executor.
    os.chdir(run_directory)
    try:
        pid = os.fork()
        if pid == 0:
            run_executor(executor, run_directory)
    finally:
        os.chdir("/")
    write_pid(run_directory, pid)
    return pid


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(connection: socket.socket, executor) -> None:
    buffer = b""
    while True:
        ready, _, _ = select.select([connection], [], [], REAP_INTERVAL_SECONDS)
        reap()
        if not ready:
            continue
        data = connection.recv(65536)
        if not data:
            return  # the worker client is gone: its executors carry on without us
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            run_directory = os.fsdecode(line)
            try:
                answer = str(fork_executor(executor, run_directory))
            except OSError as error:
                answer = f"cannot start an executor for {run_directory}: {error}".replace("\n", " ")
            connection.sendall(answer.encode() + b"\n")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: forkserver.py FD RUNS_ROOT", file=sys.stderr)
        return 2
    connection = socket.socket(fileno=int(argv[1]))
    os.chdir("/")  # hold no directory of the worker's
    # Imported once here, so that each fork starts with it loaded.
    sys.path.insert(0, os.path.dirname(HERE))
    import executor

    try:
        serve(connection, executor)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the worker client went away while we answered
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
