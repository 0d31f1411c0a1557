"""Optional: bounds on pending authorizations: what one may hold, and how many one client or one address may keep.

GET /authorize needs no sign-in, yet stores the request it validated for the consent page (the
core's pending.py) for CONSENT_TTL. Unbounded, that is disk anyone can fill: two hundred requests
with a 12 KB `state` kept 2.6 MB for ten minutes, and nothing limited how many. So:

- each parameter the flow reads has a length limit (`kept`). A longer one is refused before
  anything is fetched or stored, with `invalid_request` on an error page: not in a redirect,
  which would carry the refused value back in full;
- one client, and one client address, have only so many pending at once. Past that, the oldest
  gives way (`save`), and a user who then answers its page reads "expired" and starts again.

Why the oldest gives way rather than the newest being refused: client ids are public and GET
/authorize is anonymous, so a refusal would let anyone lock every user of a client, or of a shared
address, out for ten minutes with one burst of requests. With eviction the newest request always
goes ahead, and a flooder must keep flooding faster than a user reads the page. A flood from many
addresses can still make a client's users start again: rate limits at the edge are the answer.
"""

import logging
from typing import Any

from sqlalchemy import Connection, Engine, delete, inspect, select
from starlette.datastructures import QueryParams

from ... import database
from ..flow import Refused
from ..pages import error_page
from ..storage.pending import PendingAuthorizations, pending_authorizations
from .registration import MAX_URI
from .throttle import address_key

logger = logging.getLogger(__name__)

MAX_STATE_LENGTH = 1024  # characters; clients send 32-64 random ones, a few encode a little more
MAX_SCOPE_LENGTH = 512  # every scope this server knows fits many times over
MAX_PENDING_PER_ADDRESS = 20  # a shared address (a NAT, an office) has this many users at the page at once
MAX_PENDING_PER_CLIENT = 100  # raise it for a client with more users signing in within CONSENT_TTL

# The longest value of each parameter the flow reads (pending.FLOW_PARAMETERS): URLs may be as long
# as a registered redirect URI; the rest are short by definition.
MAX_LENGTHS: dict[str, int] = {
    "response_type": 32,
    "client_id": MAX_URI,  # a metadata document's URL, or a registered id
    "redirect_uri": MAX_URI,
    "scope": MAX_SCOPE_LENGTH,
    "state": MAX_STATE_LENGTH,
    "code_challenge": 128,  # RFC 7636 §4.2: 43 to 128 characters
    "code_challenge_method": 32,
    "resource": MAX_URI,
}


class BoundedPendingAuthorizations(PendingAuthorizations):
    def kept(self, query: QueryParams) -> list[tuple[str, str]]:
        """The core's parameters, each within its limit; else Refused. The others (an `x=<12 KB>`) are dropped."""
        kept = super().kept(query)
        for name, value in kept:
            if len(value) > MAX_LENGTHS[name]:  # `name` is one of ours, safe to show
                problem = f"The {name} parameter is longer than {MAX_LENGTHS[name]} characters."
                raise Refused(error_page("invalid_request", problem, 400))
        return kept

    def save(self, params: list[tuple[str, str]], browser_id: str, client_id: str, address: str) -> tuple[str, str]:
        """The core's save; then the client and the address each keep only their newest pending authorizations.
        Requests racing at PostgreSQL may leave one or two over the bound: the next one trims it."""
        address = address_key(address)  # an IPv6 client counts as its /64
        saved = super().save(params, browser_id, client_id, address)
        with self.engine.begin() as connection:
            evicted = _keep_newest(connection, pending_authorizations.c.client_id == client_id, MAX_PENDING_PER_CLIENT)
            evicted += _keep_newest(connection, pending_authorizations.c.address == address, MAX_PENDING_PER_ADDRESS)
        if evicted:
            logger.warning("%d older pending authorizations of %s or from %s gave way", evicted, client_id, address)
        return saved


def _keep_newest(connection: Connection, owned: Any, keep: int) -> int:
    """Delete all but the `keep` newest pending authorizations that match `owned`; how many went."""
    table = pending_authorizations
    newest = select(table.c.request_id).where(owned).order_by(table.c.created_at.desc()).limit(keep)
    return connection.execute(delete(table).where(owned, table.c.request_id.not_in(newest))).rowcount


def upgrade_pending_table(engine: Engine) -> None:
    """An older database's pending_authorizations lacks the columns that bound it. Its rows live ten
    minutes, so the table is made anew rather than migrated: a consent page open across the upgrade
    says "expired", and its user starts again."""
    with database.locked(engine) as connection:
        columns = {column["name"] for column in inspect(connection).get_columns(pending_authorizations.name)}
        if "address" not in columns:
            pending_authorizations.drop(connection)
            pending_authorizations.create(connection)
