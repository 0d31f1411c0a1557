"""The MCP server and its tools.

The SDK reads each tool's name from the function, its description from the
docstring and its JSON Schema from the type hints: there is no schema to write
by hand, and arguments that do not match it never reach the function.
"""

from typing import Annotated

from mcp.server import MCPServer
from pydantic import Field

SERVER_NAME = "basic-mcp"
SERVER_VERSION = "0.1.0"


def create_server() -> MCPServer:
    """Build the server. One factory serves both transports and every test."""
    mcp = MCPServer(
        SERVER_NAME,
        version=SERVER_VERSION,
        instructions="A demo server: echo a message back, or add two numbers.",
    )

    @mcp.tool()
    def echo_message(
        message: Annotated[str, Field(description="The message to echo back in the response.")],
    ) -> str:
        """Return the message prefixed with 'Echo: '. Useful to check that the server answers."""
        return f"Echo: {message}"

    @mcp.tool()
    def add_numbers(
        num1: Annotated[float, Field(description="The first number to add.")],
        num2: Annotated[float, Field(description="The second number to add.")],
    ) -> float:
        """Calculate the sum of two numbers."""
        return num1 + num2

    return mcp
