"""Why the master ends a worker connection: the WebSocket close codes (4000-4999 are the
application's own; docs/protocol.md) and the exception that carries one with its reason."""

CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4002
CLOSE_IDENTIFIER_TAKEN = 4003
CLOSE_DISABLED = 4004
CLOSE_REPLACED = 4005
CLOSE_UNANSWERABLE = 4006
CLOSE_INVALID_HELLO = 4007


class Refused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason
