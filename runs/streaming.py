"""Responses produced a chunk at a time by blocking work, in bounded memory on any handler."""

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse


class BlockingStreamingResponse(StreamingHttpResponse):
    """Streams an iterator of bytes whose every chunk costs blocking work (disk, compression).

    The WSGI handler and the test client iterate it like any streaming response. Under ASGI,
    Django gathers a synchronous iterator whole into a list before sending its first byte
    (a 200 MB log held in memory), and an asynchronous iterator that read files itself would
    stall the event loop; so each chunk is produced in a thread and sent before the next.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = iter(self.streaming_content)
        # Not thread-sensitive: producing a chunk touches files, never the database, so it
        # need not queue behind other synchronous work in the request's one thread.
        produce = sync_to_async(next, thread_sensitive=False)
        while (chunk := await produce(chunks, None)) is not None:
            yield chunk
