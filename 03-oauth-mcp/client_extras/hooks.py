"""The event hooks on the client's HTTP connection: `--verbose` narration, and a refused `--token` explained.

Skip on a first read: `client/connect.py` installs them in one line. Both only watch responses go by
(narration.py, refusals.py); neither changes a request.
"""

from .narration import Narrator
from .refusals import refused_token


def event_hooks(mcp_url: str, verbose: bool, token: str | None) -> dict[str, list]:
    """httpx2's `event_hooks`: the narrator's with `--verbose`, and with a raw `--token`, its refusal shown."""
    hooks = Narrator(mcp_url).hooks() if verbose else {"request": [], "response": []}
    if token:
        hooks["response"].append(refused_token)  # the SDK would report only an error code
    return hooks
