"""How a deliberately vulnerable variant of lesson 03's code starts: only as its lab starts it, saying what it is.

A server variant parses its command line with `vulnerable_options`; a client variant, a part of its
lab's own process, announces itself when it is made (`announce`) and refuses to run as a program
(`not_a_program`).

Only the standard library here, and a variant imports what it weakens after that check: run bare,
it refuses at once, not after the second it takes to import the SDK.
"""

import argparse
import sys
from typing import NoReturn

LESSON = "03-oauth-mcp"


class LabCommandLine(argparse.ArgumentParser):
    """argparse, whose usage errors also say what the program is and who runs it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.description}\n{self.epilog}\n{self.prog}: error: {message}\n")


def banner(lab: str, flaw: str) -> str:
    return f"DELIBERATELY VULNERABLE (lab: {lab}): {flaw}"


def vulnerable_options(lab: str, flaw: str, *flags: str) -> argparse.Namespace:
    """The command line of `lab`'s deliberately vulnerable server, whose flaw is `flaw`.

    Every flag is required, none defaults to the lesson's address, issuer or database: the variant
    runs only as its lab starts it, never bare where the lesson's server would be. Once started, it
    says what it is on stderr, where its log begins, so that nobody takes it for the lesson's server.
    """
    parser = LabCommandLine(
        prog=f"python -m {LESSON}.labs.{lab}.vulnerable",
        description=banner(lab, flaw),
        epilog=f"Only its lab starts it, with the arguments it needs: python -m {LESSON}.labs.{lab}",
    )
    for flag in flags:
        parser.add_argument(flag, required=True)
    options = parser.parse_args()
    announce(lab, flaw)
    return options


def announce(lab: str, flaw: str) -> None:
    print(banner(lab, flaw), file=sys.stderr, flush=True)


def not_a_program(lab: str, flaw: str) -> NoReturn:
    """What a variant that lives in its lab's own process says when it is run as a program."""
    sys.exit(f"{banner(lab, flaw)}\nA part of its lab, not a program: python -m {LESSON}.labs.{lab}")
