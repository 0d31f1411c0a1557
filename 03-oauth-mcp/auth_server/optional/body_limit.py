"""Optional: a ceiling on request bodies, MAX_BODY_BYTES: no OAuth request needs more than a few kilobytes.

Starlette reads a whole body into memory before parsing it as a form or as JSON, whatever its
size, so a 30 MB POST to /register costs 30 MB. This middleware answers 413 instead: at once when
the Content-Length is over the limit, before a byte of the body is read, and otherwise (a chunked
body, which declares no length) as soon as what has arrived is over it.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024  # bigger: 413, before it is read


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # An HTTPException: the app's exception middleware turns it into the 413.
                raise HTTPException(413, f"The request body is larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)

    def _too_large(self) -> JSONResponse:
        return JSONResponse({"detail": f"The request body is larger than {self.max_bytes} bytes"}, status_code=413)
