"""Command line: `python -m 03-oauth-mcp.auth_server [--addr 127.0.0.1:9000] [--issuer URL] [--db PATH] ...`.

The core's settings (config.py `Settings`) and the optional parts' (`Options`), each flag checked
up front, a usage error and not a traceback; then the server, with every optional part plugged in
(wiring.py `create_app`), under uvicorn.
"""

import ipaddress
import logging
from typing import Annotated, Literal
from urllib.parse import urlsplit

import typer
import uvicorn
from authlib.common.security import is_secure_transport
from sqlalchemy.exc import OperationalError

from ...addresses import AUTH_SERVER_ADDR, is_loopback, parse_addr, split_addr
from ...database import check_db, describe
from ..config import DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_RESOURCE, Settings, default_db_path
from . import cimd, enterprise, github, throttle
from .logs import configure_logging
from .wiring import Options, create_app

logger = logging.getLogger(__package__.rpartition(".")[0])  # "03-oauth-mcp.auth_server": the server's name

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_issuer(issuer: str | None) -> str | None:
    """The issuer is an identifier compared as a string: refuse what clients would not match."""
    if issuer is None:
        return None
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise typer.BadParameter(f"{issuer!r} is not an http(s) URL without query or fragment")
    if issuer.endswith("/"):
        raise typer.BadParameter(f"{issuer!r} ends with '/': clients compare issuers exactly, drop the slash")
    if not is_secure_transport(issuer):
        raise typer.BadParameter(f"{issuer!r} must use https (http is allowed only on loopback, for development)")
    return issuer


def parse_db(db: str | None) -> str | None:
    try:
        return None if db is None else check_db(db)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def parse_resources(resources: list[str] | None) -> list[str] | None:
    for resource in resources or []:
        parts = urlsplit(resource)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise typer.BadParameter(f"{resource!r} is not an absolute http(s) URL without a fragment (RFC 8707)")
    return resources


def parse_forwarded_allow_ips(addresses: list[str] | None) -> list[str] | None:
    """Addresses and networks only: uvicorn would take a typo for a name that never matches, and "*" for anyone."""
    for address in addresses or []:
        try:
            ipaddress.ip_network(address)
        except ValueError as error:
            raise typer.BadParameter(f"{address!r} is not an IP address or network ({error})") from None
    return addresses


@cli.command()
def main(
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on.")] = AUTH_SERVER_ADDR,
    issuer: Annotated[
        str | None,
        typer.Option(callback=parse_issuer, help="The issuer URL clients see; default http://ADDR, no trailing slash."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            callback=parse_db,
            metavar="PATH|URL",
            help="Where clients, users, codes, tokens and the signing key live: a SQLite file, or a database URL "
            "that replicas share, postgresql+psycopg://USER@HOST/DB. [default: "
            "$XDG_STATE_HOME/mcp-workshop/auth_server.db]",
            show_default=False,
        ),
    ] = None,
    resource: Annotated[
        list[str] | None,
        typer.Option(
            callback=parse_resources,
            help=f"A resource (MCP server URL) tokens may be issued for; repeatable; the first is the default. "
            f"[default: {DEFAULT_RESOURCE}]",
            show_default=False,
        ),
    ] = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            callback=parse_resources,
            help="An upstream API an MCP server may exchange its caller's token for (RFC 8693); repeatable.",
            show_default=False,
        ),
    ] = None,
    access_token_ttl: Annotated[
        int, typer.Option(min=1, help="Access token lifetime in seconds.")
    ] = DEFAULT_ACCESS_TOKEN_TTL,
    cimd_allow_host: cimd.AllowHostOption = None,
    cimd_ca_file: cimd.CaFileOption = None,
    cimd_cache_size: cimd.CacheSizeOption = cimd.DEFAULT_CIMD_CACHE_SIZE,
    github_client_id: github.ClientIdOption = None,
    github_client_secret: github.ClientSecretOption = None,
    github_url: github.UrlOption = "https://github.com",
    max_lockout: throttle.MaxLockoutOption = throttle.DEFAULT_MAX_LOCKOUT,
    registration_limit: throttle.RegistrationLimitOption = throttle.DEFAULT_REGISTRATION_LIMIT,
    trusted_idp: enterprise.TrustedIdpOption = None,
    forwarded_allow_ips: Annotated[
        list[str] | None,
        typer.Option(
            callback=parse_forwarded_allow_ips,
            metavar="ADDRESS",
            help="A load balancer (IP address or network) whose X-Forwarded-For names the client; repeatable. "
            "From anyone else the header is ignored. [default: none]",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level; logs go to stderr.")
    ] = "info",
) -> None:
    """Run the lesson 03 OAuth 2.1 authorization server."""
    if bool(github_client_id) != bool(github_client_secret):
        raise typer.BadParameter("give both --github-client-id and --github-client-secret, or neither")
    configure_logging(log_level)
    host, port = split_addr(addr)
    settings = Settings(
        issuer=issuer or f"http://{addr}",
        database=db or str(default_db_path()),
        resources=tuple(resource or [DEFAULT_RESOURCE]),
        upstreams=tuple(upstream or []),
        access_token_ttl=access_token_ttl,
    )
    options = Options(
        cimd_allow_hosts=frozenset(cimd_allow_host or []),
        cimd_ca_file=cimd_ca_file,
        cimd_cache_size=cimd_cache_size,
        github_client_id=github_client_id,
        github_client_secret=github_client_secret,
        github_url=github_url,
        max_lockout=max_lockout,
        registration_limit=registration_limit,
        trusted_idps=dict(value.partition("=")[::2] for value in trusted_idp or []),
    )
    if not is_loopback(host):
        logger.warning("listening on %s: reachable from other machines; serve it behind https", host)
    try:
        app = create_app(settings, options)
    except PermissionError as error:  # a SQLite file others could read
        raise typer.BadParameter(str(error), param_hint="--db") from None
    except OperationalError as error:  # no database server there, or it refused us
        problem = f"cannot open {describe(settings.database)}: {error.orig}"
        raise typer.BadParameter(problem, param_hint="--db") from None
    if github_client_id:
        logger.info("users may also sign in with %s", github_url)
    for idp in options.trusted_idps:
        logger.info("ID-JAGs from identity provider %s are redeemed (the JWT bearer grant)", idp)
    resources = " ".join(settings.resources)
    logger.info("issuer %s, database %s, resources %s", settings.issuer, describe(settings.database), resources)
    # Every throttle counts per client address, and uvicorn's default takes that address from
    # X-Forwarded-For when a request comes from 127.0.0.1 (or FORWARDED_ALLOW_IPS), where this
    # server runs: anyone there could name a new address on each request. So the header counts only
    # from the proxies named with --forwarded-allow-ips, and by default from no one.
    trusted = forwarded_allow_ips or []
    if trusted:
        logger.info("client addresses: from X-Forwarded-For when sent by %s", ", ".join(trusted))
    # uvicorn stops gracefully on SIGINT and SIGTERM. log_config=None keeps the handler above.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )
