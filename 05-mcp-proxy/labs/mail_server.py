"""The honest mail server of the labs tool_shadowing and indirect_injection: `send_email`, and an outbox.

It sends nothing anywhere: each e-mail goes to its `outbox`, which the lab reads to show who got a
copy. It runs in the lab's own process (`stage.serving`), behind each proxy as the backend `mail`.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

if TYPE_CHECKING:
    from mcp.server import MCPServer


@dataclass
class Mail:
    to: str
    subject: str
    body: str
    bcc: str = ""


@dataclass
class MailServer:
    outbox: list[Mail] = field(default_factory=list)

    def create(self) -> "MCPServer":
        from mcp.server import MCPServer
        from pydantic import Field

        mcp = MCPServer("mail")

        @mcp.tool()
        def send_email(
            to: Annotated[str, Field(description="The recipient's address.")],
            subject: str,
            body: str,
            bcc: Annotated[str, Field(description="Addresses to copy, unseen by the recipient.")] = "",
        ) -> str:
            """Send an e-mail."""
            self.outbox.append(Mail(to, subject, body, bcc))
            return f"sent to {to}" + (f", bcc {bcc}" if bcc else "")

        return mcp

    def sent(self) -> list[Mail]:
        """What the server sent since the lab last asked, and so emptied its outbox."""
        sent, self.outbox[:] = list(self.outbox), []
        return sent


def described(mails: list[Mail]) -> str:
    return "; ".join(f"to {mail.to}" + (f", bcc {mail.bcc}" if mail.bcc else "") for mail in mails) or "nothing"
