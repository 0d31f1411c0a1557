"""Pending authorizations: validated /authorize requests, kept while their users read the consent page (../flow.py).

GET /authorize needs no sign-in, so what it keeps, it keeps for anyone: only the parameters the
flow reads, for CONSENT_TTL. How long each may be, and how many one client or one address may
keep, is optional/pending_limits.py's business.
"""

import secrets
import time

from sqlalchemy import JSON, Column, Float, Integer, Table, Text, delete, select
from starlette.datastructures import QueryParams

from ..config import CONSENT_TTL
from . import Store, digest, now, tables

# What the flow reads (RFC 6749 §4.1.1, RFC 8707); anything else is dropped: no grant reads it.
FLOW_PARAMETERS = {"response_type", "client_id", "redirect_uri", "scope", "state", "resource"}
FLOW_PARAMETERS |= {"code_challenge", "code_challenge_method"}  # RFC 7636

pending_authorizations = Table(
    "pending_authorizations",
    tables,
    Column("request_id", Text, primary_key=True),
    Column("params", JSON, nullable=False),  # the kept query: [[name, value], ...]
    Column("csrf_token", Text, nullable=False),
    Column("browser_hash", Text, nullable=False),  # digest of the cookie that binds it to one browser
    Column("expires_at", Integer, nullable=False),
    # For whom, from where, since when: optional/pending_limits.py keeps only so many of each.
    Column("client_id", Text, nullable=False, index=True),
    Column("address", Text, nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)


class PendingAuthorizations(Store):
    def kept(self, query: QueryParams) -> list[tuple[str, str]]:
        """The parameters of an authorization request that are kept: the ones the flow reads."""
        return [(name, value) for name, value in query.multi_items() if name in FLOW_PARAMETERS]

    def save(self, params: list[tuple[str, str]], browser_id: str, client_id: str, address: str) -> tuple[str, str]:
        """Keep a validated authorization request: (request_id, csrf_token)."""
        request_id, csrf_token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            self._delete_expired(connection, pending_authorizations, now())
            connection.execute(
                pending_authorizations.insert().values(
                    request_id=request_id,
                    params=[list(pair) for pair in params],
                    csrf_token=csrf_token,
                    browser_hash=digest(browser_id),
                    expires_at=now() + CONSENT_TTL,
                    client_id=client_id,
                    address=address,
                    created_at=time.time(),
                )
            )
        return request_id, csrf_token

    def get(self, request_id: str) -> tuple[list[tuple[str, str]], str, str] | None:
        """(params, csrf_token, browser_hash) of an unexpired pending authorization."""
        table = pending_authorizations
        row = self._one(select(table).where(table.c.request_id == request_id, table.c.expires_at >= now()))
        return ([(key, value) for key, value in row.params], row.csrf_token, row.browser_hash) if row else None

    def browser_is_known(self, browser_id: str) -> bool:
        """Did this server issue this browser cookie, for a pending authorization that has not expired?"""
        table = pending_authorizations
        alive = table.c.browser_hash == digest(browser_id), table.c.expires_at >= now()
        return self._one(select(table.c.request_id).where(*alive)) is not None

    def delete(self, request_id: str) -> bool:
        """Forget a pending authorization; False if it was gone already (another answer took it)."""
        return bool(self._run(delete(pending_authorizations).where(pending_authorizations.c.request_id == request_id)))
