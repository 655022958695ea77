"""`make run`: one master and one local worker in the foreground, ready to log in to.

However runlocal stops, what it started stops with it: Ctrl-C, SIGTERM (a service manager,
`kill`) and SIGHUP (a closed terminal) stop the master and the worker client and wait for them;
SIGKILL, which runlocal cannot see, ends them through their parent-death signal (Linux). The
executors of running runs are the worker client's, detached on purpose: they keep running.
"""

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from orchestra.actions import do_create_user
from orchestra.audit import SYSTEM
from orchestra.environment import private_file
from orchestra.models import Token
from orchestra.roles import CONNECT_WORKER
from orchestra.tokens import authenticate_token, create_token

ADMINISTRATOR = "admin"
LOCAL_WORKER = "local-worker"

# prctl(2) is Linux's; elsewhere the children of a SIGKILLed runlocal are left to the person.
PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


class Stopped(Exception):
    """SIGTERM or SIGHUP: runlocal stops as Ctrl-C stops it."""


def stop(number: int, frame) -> None:
    raise Stopped(signal.Signals(number).name)


def stopping_with(parent: int) -> Callable[[], None]:
    """A preexec function: the child gets SIGTERM when `parent` ends, however it ends."""

    def preexec() -> None:
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            # The parent may have ended before the signal was asked for.
            if os.getppid() != parent:
                os._exit(1)

    return preexec


class Command(BaseCommand):
    help = "Migrate, create the first accounts once, then run a master and a local worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        password = ensure_administrator(settings.DATA_DIR / "admin-password")
        worker_token = ensure_worker_token(settings.DATA_DIR / "worker-token")
        if port_in_use(host, port):
            raise CommandError(f"port {port} on {host} is in use: try `make run PORT=8001`")

        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, stop)
        preexec = stopping_with(os.getpid())
        master = subprocess.Popen(
            [*manage, "runmaster", "--host", host, "--port", str(port)], preexec_fn=preexec
        )
        processes = [master]
        try:
            wait_for_port(host, port, master)
            problem = local_worker_problem()
            if problem is None:
                worker = subprocess.Popen(
                    [
                        *manage, "runworker_client",
                        "--master-url", f"ws://{host}:{port}/ws/master/",
                        "--identifier", LOCAL_WORKER,
                        "--data-dir", str(settings.DATA_DIR / "worker"),
                    ],
                    # In the environment, not the arguments, where `ps` would show it.
                    env={**os.environ, "ORCHESTRA_WORKER_TOKEN": worker_token},
                    preexec_fn=preexec,
                )
                processes.append(worker)
            self.stdout.write(
                "\n"
                f"  Orchestra is running at http://{host}:{port}/\n"
                f"  Log in as {ADMINISTRATOR!r} with password {password!r}\n"
                f"  (stored in {settings.DATA_DIR / 'admin-password'}). Ctrl-C stops it.\n"
            )
            if problem is not None:
                self.stdout.write(f"\n  The local worker is not started: {problem}\n")
            self.stdout.flush()
            self.serve(master, processes[1:])
        except (KeyboardInterrupt, Stopped):
            pass
        finally:
            # Stopping is bounded (10 s, then SIGKILL): a second signal must not cut it short
            # and leave the children running.
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_IGN)
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def serve(self, master: subprocess.Popen, workers: list[subprocess.Popen]) -> None:
        """Until the master ends: the website stays up whatever happens to the local worker
        (an administrator may disable, un-role or delete its user from that very website)."""
        while master.poll() is None:
            for worker in [worker for worker in workers if worker.poll() is not None]:
                workers.remove(worker)
                why = local_worker_problem() or "see its messages above"
                self.stdout.write(
                    f"\n  The local worker stopped (exit status {worker.returncode}): {why}.\n"
                    "  The master keeps serving; restart `make run` to start the worker again.\n"
                )
                self.stdout.flush()
            time.sleep(0.5)


def local_worker_problem() -> str | None:
    """Why the master would refuse the local worker, in words for the person running it;
    None when nothing in the database says it would."""
    user = User.objects.filter(username=LOCAL_WORKER).first()
    if user is None:
        return f"the user {LOCAL_WORKER!r} was deleted (the next `make run` creates it again)"
    if not user.is_active:
        return f"the user {LOCAL_WORKER!r} is disabled: enable it on /users/{LOCAL_WORKER}/"
    if not user.has_perm(CONNECT_WORKER):
        return (
            f"the user {LOCAL_WORKER!r} does not hold the worker role: give it back on "
            f"/users/{LOCAL_WORKER}/"
        )
    return None


def ensure_administrator(password_file: Path) -> str:
    """The administrator account, created once; its password lives in the data directory."""
    user = User.objects.filter(username=ADMINISTRATOR).first()
    if user is not None and password_file.exists():
        return password_file.read_text().strip()
    password = secrets.token_urlsafe(12)
    if user is None:
        do_create_user(ADMINISTRATOR, password, ["administrator"], SYSTEM)
    else:
        user.set_password(password)
        user.save(update_fields=["password"])
    private_file(password_file)
    password_file.write_text(password + "\n")
    return password


def ensure_worker_token(token_file: Path) -> str:
    """A token of the local worker's user; the value is kept only in the data directory."""
    user = User.objects.filter(username=LOCAL_WORKER).first()
    if user is None:
        user = do_create_user(LOCAL_WORKER, None, ["worker"], SYSTEM)
    if token_file.exists():
        value = token_file.read_text().strip()
        if authenticate_token(value) is not None:
            return value
    _, value = create_token(user, Token.Kind.API, description="make run local worker")
    private_file(token_file)
    token_file.write_text(value + "\n")
    return value


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError("the master stopped during start-up; its message is above")
        if port_in_use(host, port):
            return
        time.sleep(0.1)
    raise CommandError(f"the master did not listen on {host}:{port} within {timeout:.0f} s")
