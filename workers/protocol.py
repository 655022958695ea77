"""What both ends of the worker protocol (docs/protocol.md) agree on. It imports nothing, so the
worker client, which runs without Django, shares it with the master."""

# The largest message either end takes, in bytes of its JSON text: daphne ends a connection that
# brings a larger one (runmaster's websocket_max_message_size), and so does the worker client
# (its max_size). Neither end sends a larger one: it would end the connection, and the same
# message would go again after the reconnection, forever.
MAX_MESSAGE_BYTES = 1024 * 1024
