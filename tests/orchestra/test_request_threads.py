"""Each HTTP request's synchronous code runs on a thread of its own while it runs, taken from a
pool and given back for the next request, instead of a thread started and stopped per request
(orchestra.request_threads)."""

import threading

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync
from channels.testing import ApplicationCommunicator
from django.core.signals import request_finished

from orchestra.request_threads import PooledThreadsASGIHandler, RequestThreads

pytestmark = pytest.mark.django_db(transaction=True)


async def get(application, path: str) -> int:
    communicator = ApplicationCommunicator(application, {
        "type": "http", "http_version": "1.1", "method": "GET", "path": path,
        "raw_path": path.encode(), "query_string": b"", "headers": [(b"host", b"localhost")],
    })
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    more = True
    while more:
        more = (await communicator.receive_output(timeout=10)).get("more_body", False)
    await communicator.wait(timeout=10)
    return start["status"]


async def test_requests_one_after_another_run_on_one_thread_that_is_not_the_event_loops():
    threads = RequestThreads()
    application = PooledThreadsASGIHandler(threads)
    seen = []

    def record_thread(**kwargs):
        seen.append(threading.get_ident())

    request_finished.connect(record_thread)
    try:
        statuses = [await get(application, "/login/") for _ in range(3)]
    finally:
        request_finished.disconnect(record_thread)
    assert statuses == [200, 200, 200]
    assert len(seen) == 3 and len(set(seen)) == 1
    assert seen[0] != threading.get_ident()
    assert threads.started == 1


def test_requests_at_once_each_get_a_thread_and_idle_ones_beyond_the_limit_stop():
    threads = RequestThreads(max_idle=1)
    first, second = threads.take(), threads.take()
    assert first is not second and threads.started == 2
    first.submit(lambda: None).result()
    second.submit(lambda: None).result()
    threads.give_back(first)
    threads.give_back(second)
    assert threads.idle == [first]
    with pytest.raises(RuntimeError):
        second.submit(lambda: None)  # shut down
    assert threads.take() is first and threads.started == 2


async def test_a_request_crosses_from_the_event_loop_to_its_thread_a_few_times_not_at_every_middleware(
    monkeypatch,
):
    """Django's signal that a request starts, the middleware chain with the view, and the
    response's close: one crossing each, however many middleware hooks the chain holds."""
    application = PooledThreadsASGIHandler()
    crossings = []
    for adapter in (SyncToAsync, AsyncToSync):
        def counted(self, *args, __call__=adapter.__call__, **kwargs):
            crossings.append(getattr(self, "func", None) or getattr(self, "awaitable", None))
            return __call__(self, *args, **kwargs)

        monkeypatch.setattr(adapter, "__call__", counted)
    assert await get(application, "/login/") == 200
    assert len(crossings) <= 3, crossings
