"""`python -m 03-oauth-mcp.auth_server --help`. Its flags are mostly the optional parts', so the command line
lives with them (optional/command_line.py): it runs app.py's `AuthorizationService` with each plugged in."""

from .optional.command_line import cli

if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
