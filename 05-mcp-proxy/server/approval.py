"""Approval: the caller's user confirms each call to a sensitive tool before the proxy forwards it.

A model calls tools because of what it has read, and what it read can be an attacker's: a document,
a web page, an e-mail, another tool's result, with instructions for the model in it (indirect prompt
injection; the OWASP MCP Top 10's MCP06, intent flow subversion). No server can tell a call the
user wanted from one the text steered: a call is a name and arguments, whoever thought of them. What
a proxy can do is make the calls that matter wait for a person, as the MCP specification asks ("there
SHOULD always be a human in the loop with the ability to deny tool invocations").

A backend's `requireApproval` lists those tools (globs of its own tool names, as `toolFilter`). Before
forwarding a call to one, the proxy asks the caller's client (`elicitation/create`, on the call's
stream) to show its user the exact tool and arguments, and forwards the call only if the user
approves. A client that cannot ask its user (no elicitation; a 2026-07-28 request, for which the proxy
has no channel to ask on) is refused: a call that needs a person does not go through without one.
The arguments are shown to the user, never logged: they may hold what the attack was after.
"""

import json
import logging
from fnmatch import fnmatchcase
from typing import Any

from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp_types import ClientCapabilities, ElicitationCapability

from .settings import BackendSettings

logger = logging.getLogger(__name__)

# What the user answers: one yes-or-no field, which a client shows as a checkbox or a question.
APPROVE = {
    "type": "object",
    "properties": {"approve": {"type": "boolean", "title": "Run this call"}},
    "required": ["approve"],
}


def needs_approval(backend: BackendSettings | None, tool: str) -> bool:
    """Whether a call to `tool` (the backend's own name for it) waits for the caller's user."""
    return backend is not None and any(fnmatchcase(tool, pattern) for pattern in backend.require_approval)


async def refusal(ctx: ServerRequestContext[Any, Any], name: str, arguments: dict[str, Any] | None) -> str | None:
    """Ask the caller's user to approve calling `name` (as the caller sees it) with `arguments`.

    None if they approved; else why the call is refused, for the tool error the caller reads.
    """
    if not ctx.session.check_client_capability(ClientCapabilities(elicitation=ElicitationCapability())):
        logger.warning("refused %s: it needs the user's approval, and the client cannot ask for it", name)
        return f"Tool {name} needs its user's approval, and this client cannot ask for it (it offers no elicitation)"
    question = f"{name} needs your approval. Run it with these arguments? {json.dumps(arguments or {})}"
    try:
        answer = await ctx.session.elicit_form(question, APPROVE, related_request_id=ctx.request_id)
    except NoBackChannelError:
        logger.warning("refused %s: it needs the user's approval, and the request has no channel to ask on", name)
        return (
            f"Tool {name} needs its user's approval, and this proxy cannot ask on a 2026-07-28 request: "
            "connect in the handshake era (mode='legacy'), with an elicitation callback"
        )
    except MCPError as error:
        return f"Tool {name} needs its user's approval, and asking failed: {error.message}"
    if answer.action == "accept" and (answer.content or {}).get("approve") is True:
        logger.info("%s: approved by the caller's user", name)
        return None
    logger.info("refused %s: the caller's user did not approve it (%s)", name, answer.action)
    return f"Tool {name} was not run: its user did not approve the call"
