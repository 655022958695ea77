"""What daphne (and Twisted under it) answers before Django sees a request.

Two answers escaped the service's rules: Twisted parses a POSTed form body itself (into
`request.args`, which daphne never reads; daphne passes the body on as it came) and answers one
it cannot parse with a bare 400 and a closed connection, so an anonymous caller got a 400
instead of the service's 401; and daphne refuses a path, query string or header it cannot
decode with an HTML page. Under /api/ that page is JSON here, like every service error.
"""

import json

from daphne import http_protocol

from orchestra.applications import SERVICE_PREFIX


class MasterRequest(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._parsePOSTFormSubmission = False

    def basic_error(self, status: int, status_text: bytes, body: str) -> None:
        # daphne replaces an undecodable path with "/" before calling this; the URI is intact.
        if not self.uri.startswith(SERVICE_PREFIX.encode()):
            return super().basic_error(status, status_text, body)
        content = json.dumps({"error": body}).encode()
        headers = [(b"Content-Type", b"application/json"), (b"Content-Length", b"%d" % len(content))]
        self.handle_reply({"type": "http.response.start", "status": status, "headers": headers})
        self.handle_reply({"type": "http.response.body", "body": content})


def install() -> None:
    """Make daphne build MasterRequest: its HTTP factory names its request class as a module
    global and offers no setting for it."""
    http_protocol.WebRequest = MasterRequest
