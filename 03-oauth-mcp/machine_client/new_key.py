"""A key pair for a machine: `python -m 03-oauth-mcp.machine_client.new_key PATH [--algorithm ES256|RS256]`.

Writes the private key to PATH, a JWK only its owner can read (created exclusively: an existing file,
or a symlink planted there, is never written through), and prints the public half as a JWK Set, for
the administrator of the authorization server (`python -m 03-oauth-mcp.auth_server.optional.add_client
--jwks FILE`). The private key never leaves the machine; its `kid` is the key's thumbprint (RFC 7638).
"""

import json
import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from joserfc.jwk import ECKey, RSAKey

from ..client.connect import LESSON

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def main(
    path: Annotated[Path, typer.Argument(help="Where to write the private key (a new file).")],
    algorithm: Annotated[Literal["ES256", "RS256"], typer.Option(help="ES256 (EC P-256) or RS256 (RSA).")] = "ES256",
) -> None:
    """Make a key pair: the private key into PATH (mode 0600), the public JWK Set to stdout."""
    parameters = {"use": "sig", "alg": algorithm}
    if algorithm == "ES256":
        key: ECKey | RSAKey = ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)
    else:
        key = RSAKey.generate_key(3072, parameters=parameters, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # O_EXCL with O_CREAT: never an existing file, never through a symlink; 0600 from the start.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise typer.BadParameter(f"{path} exists: choose a new file", param_hint="PATH") from None
    with os.fdopen(descriptor, "w") as file:
        json.dump(key.as_dict(private=True), file)
    print(json.dumps({"keys": [key.as_dict(private=False)]}, indent=2))


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.machine_client.new_key")
