"""Everything the authorization server remembers, as SQLAlchemy Core tables: the same in SQLite and PostgreSQL.

Every replica of the server reads and writes these rows, and nothing else: a code issued by one
replica is redeemed at another, a refresh token rotated at one is reuse at the other, a failed
password counts at all of them. The queries are in storage.py.

The names and columns are those of the SQLite file earlier versions of this lesson created, so
an existing file keeps working. Two changes: `pending_authorizations` gained the columns that bound
it (an older table of these ten-minute rows is dropped and made anew: storage.py), and
`client_resources` is new.
"""

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, MetaData, Table, Text

metadata = MetaData()

clients = Table(
    "clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("client_name", Text, nullable=False),
    Column("redirect_uris", JSON, nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("auth_methods", JSON, nullable=False),
    Column("secret_hash", Text),  # scrypt (passwords.py); NULL for public clients
    Column("allowed_scope", Text),
    Column("is_resource_server", Boolean, nullable=False, default=False),
    Column("application_type", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Integer, nullable=False),
)

# The resources a resource-server client is: the audiences of the tokens it may exchange (exchange.py).
client_resources = Table(
    "client_resources",
    metadata,
    Column("client_id", Text, ForeignKey("clients.client_id"), primary_key=True),
    Column("resource", Text, primary_key=True),
)

users = Table(
    "users",
    metadata,
    Column("username", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("private_jwk", JSON, nullable=False),
    Column("created_at", Integer, nullable=False),  # a key signs from then on, once it is the newest (keys.py)
)

pending_authorizations = Table(
    "pending_authorizations",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("params", JSON, nullable=False),  # the validated /authorize query: [[name, value], ...]
    Column("csrf_token", Text, nullable=False),
    Column("browser_hash", Text, nullable=False),  # hash of the cookie that binds it to one browser
    Column("expires_at", Integer, nullable=False),
    # Who it is for and from where, so that each has only so many (pending_limits.py); the oldest go first.
    Column("client_id", Text, nullable=False, index=True),
    Column("address", Text, nullable=False, index=True),  # throttle.address_key: an IPv4 address or an IPv6 /64
    Column("created_at", Float, nullable=False),
)

upstream_logins = Table(
    "upstream_logins",
    metadata,
    Column("state", Text, primary_key=True),  # the state sent to GitHub (upstream.py)
    Column("request_id", Text, nullable=False),
    Column("code_verifier", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
)

token_families = Table(
    "token_families",
    metadata,
    Column("family_id", Text, primary_key=True),  # one per consent: a code and every token issued from it
    Column("client_id", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("revoked_at", Integer),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),  # SHA-256: the database holds no usable code
    Column("family_id", Text, ForeignKey("token_families.family_id"), nullable=False),
    Column("client_id", Text, nullable=False),
    Column("redirect_uri", Text),
    Column("scope", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("code_challenge", Text, nullable=False),
    Column("code_challenge_method", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("used_at", Integer),  # set by the one request that redeems it
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),  # SHA-256, as for codes
    Column("family_id", Text, ForeignKey("token_families.family_id"), nullable=False),
    Column("client_id", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("rotated_at", Integer),  # set by the one request that uses it: a second use is theft
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("jti", Text, primary_key=True),  # only the id: the JWT itself carries the rest
    Column("family_id", Text, ForeignKey("token_families.family_id")),  # NULL for client_credentials
    Column("client_id", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("revoked_at", Integer),
)

attempts = Table(
    "attempts",
    metadata,
    Column("key", Text, primary_key=True),  # what is throttled: "password-user:alice", "register:127.0.0.1", ...
    Column("count", Integer, nullable=False),  # attempts counted since the window opened
    Column("blocked_until", Float, nullable=False),  # no further attempt before this time (throttle.py)
    Column("expires_at", Float, nullable=False),  # forgotten after this: a window without attempts
)
