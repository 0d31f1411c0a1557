"""Bounds on pending authorizations: what one may hold, and how many one client or one address may keep.

GET /authorize needs no sign-in, yet stores the request it validated for the consent page (flow.py)
for CONSENT_TTL. Unbounded, that is disk anyone can fill: two hundred requests with a 12 KB `state`
kept 2.6 MB for ten minutes, and nothing limited how many. So:

- only the parameters the flow reads are kept, and each has a length limit (`kept_parameters`). A
  longer one is refused before anything is fetched or stored, with `invalid_request` on an error
  page: not in a redirect, which would carry the refused value back in full;
- one client, and one client address, have only so many pending at once (config.py). Past that,
  the oldest gives way (storage.save_pending), and a user who then answers its page reads
  "expired" and starts again.

Why the oldest gives way rather than the newest being refused: client ids are public and GET
/authorize is anonymous, so a refusal would let anyone lock every user of a client, or of a shared
address, out for ten minutes with one burst of requests. With eviction the newest request always
goes ahead, and a flooder must keep flooding faster than a user reads the page. A flood from many
addresses can still make a client's users start again: rate limits at the edge are the answer.
"""

from starlette.datastructures import QueryParams

from .config import MAX_SCOPE_LENGTH, MAX_STATE_LENGTH
from .registration import MAX_URI

# What the flow reads (RFC 6749 §4.1.1, RFC 7636, RFC 8707), and the longest value of each: URLs
# may be as long as a registered redirect URI; the rest are short by definition.
STORED_PARAMETERS: dict[str, int] = {
    "response_type": 32,
    "client_id": MAX_URI,  # a metadata document's URL, or a registered id
    "redirect_uri": MAX_URI,
    "scope": MAX_SCOPE_LENGTH,
    "state": MAX_STATE_LENGTH,
    "code_challenge": 128,  # RFC 7636 §4.2: 43 to 128 characters
    "code_challenge_method": 32,
    "resource": MAX_URI,
}


class ParameterTooLong(Exception):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"The {name} parameter is longer than {limit} characters.")  # `name` is one of ours


def kept_parameters(query: QueryParams) -> list[tuple[str, str]]:
    """The parameters of an authorization request that it keeps: the ones the flow reads, each within its limit.

    Raises ParameterTooLong. The others (an `x=<12 KB>`) are dropped: no grant reads them.
    """
    kept = [(name, value) for name, value in query.multi_items() if name in STORED_PARAMETERS]
    for name, value in kept:
        if len(value) > STORED_PARAMETERS[name]:
            raise ParameterTooLong(name, STORED_PARAMETERS[name])
    return kept
