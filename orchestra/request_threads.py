"""Django's ASGI handler, each request's synchronous code in one go on a thread kept for the next.

Django runs a request's synchronous code (middleware, views, the ORM) in a thread of its own:
its ASGIHandler enters asgiref's `ThreadSensitiveContext()` per request, which starts a thread
and stops it when the request ends. Database connections belong to threads, so no request
reused a connection either, whatever CONN_MAX_AGE says. Starting and stopping those threads
was about 4 % of the master's CPU in a burst of triggers (bench/README.md).

Here a request borrows a single-thread executor from a pool and gives it back when it ends
(asgiref's `ThreadSensitiveContext(executor=...)`, whose executor outlives the context). A
request still has one thread to itself while it runs, as before: requests at once get
executors of their own, and only idle executors wait in the pool, up to MAX_IDLE of them.

And a request crosses to that thread once. Under ASGI, Django chains the middleware for the
event loop: each of Django's middleware then hands its every hook to the request's thread and
back, and a synchronous-only middleware hands the rest of the chain back to the event loop,
about fifteen crossings for one request to a synchronous view. Every view and middleware here
is synchronous, so the chain is loaded as under WSGI and run whole by one crossing.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

# Idle threads kept for the next requests; the ones beyond stop. More requests than this at
# once are rare on a master, and an idle thread costs only its stack.
MAX_IDLE = 16


class RequestThreads:
    """Single-thread executors for requests: `take` one, `give_back` it when the request is
    done. Used from the event loop's thread only, so it needs no lock."""

    def __init__(self, max_idle: int = MAX_IDLE):
        self.max_idle = max_idle
        self.idle: list[ThreadPoolExecutor] = []
        self.started = 0

    def take(self) -> ThreadPoolExecutor:
        if self.idle:
            return self.idle.pop()
        self.started += 1
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.max_idle:
            self.idle.append(executor)
        else:
            # Its thread may still finish a cancelled request's work: do not wait for it.
            executor.shutdown(wait=False)


class PooledThreadsASGIHandler(ASGIHandler):
    """Django's ASGIHandler, each request's synchronous code on a pooled thread, in one go."""

    def __init__(self, threads: RequestThreads | None = None):
        super().__init__()
        self.load_middleware(is_async=False)
        self.threads = threads or RequestThreads()

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)
