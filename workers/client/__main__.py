"""Command line of the worker client (also behind `manage.py runworker_client`)."""

import argparse
import asyncio
import fcntl
import logging
import os
import platform
import sys
from pathlib import Path

from orchestra.values import InvalidValue, check_identifier, check_properties
from workers.client.connection import Refused, WorkerClient


class ConfigurationError(Exception):
    pass


def env_str(name: str, default: str = "") -> str:
    """The variable `name`, or the content of the file named by `name`_FILE (for secrets).

    The rule of orchestra.environment.env_str, which the client cannot import: it imports
    Django.
    """
    value = os.environ.get(name)
    if value is not None:
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if not file_name:
        return default
    try:
        return Path(file_name).read_text().strip()
    except OSError as error:
        raise ConfigurationError(f"{name}_FILE: cannot read {file_name}: {error}") from None


def property_pair(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--master-url", action="append", required=True, dest="master_urls", metavar="URL",
        help="ws://HOST:PORT/ws/master/; repeat it to name several masters: the worker connects "
        "to one and moves to the next when it loses it",
    )
    parser.add_argument(
        "--token",
        help="API token of a user with the worker role (default: $ORCHESTRA_WORKER_TOKEN, or "
        "the content of the file named by $ORCHESTRA_WORKER_TOKEN_FILE)",
    )
    parser.add_argument("--identifier", required=True, help="this worker's unique name")
    parser.add_argument(
        "--property", action="append", type=property_pair, default=[], dest="properties",
        metavar="KEY=VALUE", help="a property jobs may require (repeatable)",
    )
    parser.add_argument("--executors", type=int, default=2, help="runs executed at once")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="where run directories live (default: $ORCHESTRA_DATA_DIR/worker-IDENTIFIER, the data "
        "directory also read from the file named by $ORCHESTRA_DATA_DIR_FILE)",
    )
    parser.add_argument(
        "--no-fork-server", action="store_false", dest="fork_server",
        help="start each executor as a fresh interpreter instead of forking it from the fork server",
    )


def run(master_urls: list[str], token: str | None, identifier: str, properties: list[tuple[str, str]],
        executors: int, data_dir: Path | None, fork_server: bool = True) -> int:
    # Properties a job may match on, unless given explicitly.
    described = {"os": platform.system().lower(), "arch": platform.machine()}
    described.update(dict(properties))
    # The master's own rules: it would refuse them, and the identifier names a directory here.
    try:
        check_identifier(identifier, "identifier")
        check_properties(described, "properties")
    except InvalidValue as error:
        print(f"invalid worker: {error}", file=sys.stderr)
        return 2
    try:
        if token is None:
            token = env_str("ORCHESTRA_WORKER_TOKEN")
        if data_dir is None:
            data_dir = Path(env_str("ORCHESTRA_DATA_DIR") or "data") / f"worker-{identifier}"
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return 2
    if not token:
        print("a token is needed: --token, ORCHESTRA_WORKER_TOKEN or ORCHESTRA_WORKER_TOKEN_FILE", file=sys.stderr)
        return 2
    if executors < 1:
        print("--executors must be at least 1", file=sys.stderr)
        return 2
    data_dir.mkdir(parents=True, exist_ok=True)
    # Two clients streaming (and deleting) the same run directories would corrupt each other.
    lock = open(data_dir / "worker.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another worker client is using {data_dir}", file=sys.stderr)
        return 1
    client = WorkerClient(master_urls, token, identifier, described, executors, data_dir, fork_server)
    try:
        asyncio.run(client.run_forever())
    except Refused as refusal:
        print(refusal, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.client", description=__doc__)
    add_arguments(parser)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(**vars(arguments))


if __name__ == "__main__":
    sys.exit(main())
