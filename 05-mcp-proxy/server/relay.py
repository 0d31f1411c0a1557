"""Messages a backend starts: whom to pass them to.

A proxy's backend session is shared by every client, so when a backend asks a
question (`elicitation/create`), wants a completion (`sampling/createMessage`)
or writes a log line (`notifications/message`), nothing on the wire says which
client's call it belongs to. Progress is easy: it names the call it is for, and
the SDK hands it to that call's callback. For the rest the proxy looks at which
calls are in flight on that backend:

- all from one client: that client is the one to ask, or to tell;
- none: nobody to ask (a request is refused, a log line goes to the proxy's log);
- from several clients: the proxy cannot know, and guessing could show one
  user's data to another, so it refuses rather than guess.

A client is who the gate authenticated, in the session the SDK served the
request in (handshake era), or a 2026-07-28 request on its own: never what a
header says, which on 2026-07-28 nothing checks (`FrontCall.client`).

A question reaches the client on the stream of the call that caused it (its
`related_request_id`), so it works over Streamable HTTP as the specification
intends. Only a client on a handshake-era session (`Client(..., mode="legacy")`)
can answer one: 2026-07-28 sessions have no channel for server requests. With
`jsonResponse` a call has no stream at all: log lines and progress for it are
dropped, and a question is refused.
"""

import itertools
import logging
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    ElicitRequest,
    ElicitRequestParams,
    ElicitResult,
    ErrorData,
    LoggingMessageNotificationParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

logger = logging.getLogger(__name__)
_call_ids = itertools.count()


@dataclass(frozen=True)
class FrontCall:
    """A client's request being served by a backend right now."""

    ctx: ServerRequestContext[Any, Any]

    @property
    def client(self) -> Hashable:
        """Who asked: the principal the gate authenticated, in the session the SDK found for the request.

        A handshake-era request names its session in `Mcp-Session-Id`, and the SDK served it only
        because that session is this principal's (gate.py). A 2026-07-28 request has no session: the
        SDK ignores any `Mcp-Session-Id` it carries, so that header says whatever its sender wrote
        (another user's session id, say) and must not decide whom a backend's messages reach. Such
        a request is its own exchange, so it is its own client.
        """
        request = self.ctx.request
        if request is None or self.ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return id(self)
        user = request.scope.get("user")
        principal = user.access_token.subject if isinstance(user, AuthenticatedUser) else None
        return (principal, request.headers.get("mcp-session-id"))


class InFlight:
    """The calls a backend is serving, and who asked them."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._calls: dict[int, FrontCall] = {}

    @contextmanager
    def serving(self, ctx: ServerRequestContext[Any, Any]) -> Iterator[None]:
        key = next(_call_ids)
        self._calls[key] = FrontCall(ctx)
        try:
            yield
        finally:
            del self._calls[key]

    def caller(self) -> FrontCall | ErrorData:
        """The one client whose calls are in flight, or why there is none."""
        clients = {call.client: call for call in self._calls.values()}
        if len(clients) == 1:
            return next(iter(clients.values()))
        if not clients:
            return ErrorData(code=INVALID_REQUEST, message=f"{self.backend}: no client call in flight to ask")
        return ErrorData(
            code=INVALID_REQUEST,
            message=f"{self.backend}: calls from {len(clients)} clients are in flight; cannot tell which one to ask",
        )

    async def ask(self, request: ElicitRequest | CreateMessageRequest, result_type: type) -> Any:
        """Pass a backend's request to the client whose call caused it; its answer, or an ErrorData."""
        call = self.caller()
        if isinstance(call, ErrorData):
            logger.warning("refused %s from %s: %s", request.method, self.backend, call.message)
            return call
        metadata = ServerMessageMetadata(related_request_id=call.ctx.request_id)
        try:
            return await call.ctx.session.send_request(request, result_type, metadata=metadata)
        except NoBackChannelError:
            # A 2026-07-28 request has no channel for it, nor does a call answered with one JSON body (jsonResponse).
            message = (
                f"the client cannot answer {request.method}: no back-channel to it "
                "(it needs a handshake-era session, mode='legacy', and a proxy without jsonResponse)"
            )
            return ErrorData(code=INVALID_REQUEST, message=message)
        except MCPError as error:  # the client said no: pass its answer on
            return ErrorData(code=error.code, message=error.message, data=error.data)
        except Exception as error:
            logger.exception("relaying %s from %s failed", request.method, self.backend)
            return ErrorData(code=INTERNAL_ERROR, message=f"relaying {request.method} failed: {error}")

    async def elicit(self, _context: Any, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        return await self.ask(ElicitRequest(params=params), ElicitResult)

    async def sample(
        self, _context: Any, params: CreateMessageRequestParams
    ) -> CreateMessageResult | CreateMessageResultWithTools | ErrorData:
        result_type = CreateMessageResultWithTools if params.tools or params.tool_choice else CreateMessageResult
        return await self.ask(CreateMessageRequest(params=params), result_type)

    async def log(self, params: LoggingMessageNotificationParams) -> None:
        """A backend's log line: to the client whose call it belongs to, named after the backend."""
        name = f"{self.backend}.{params.logger}" if params.logger else self.backend
        call = self.caller()
        if isinstance(call, ErrorData):
            logger.info("log from %s [%s]: %s", name, params.level, params.data)
            return
        # The session applies the client's opt-in: on 2026-07-28, only the levels it asked for.
        await call.ctx.session.send_log_message(params.level, params.data, name, related_request_id=call.ctx.request_id)
