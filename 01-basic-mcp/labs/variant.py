"""How a deliberately vulnerable variant of lesson 01's server starts: only as its lab starts it, saying what it is.

Only the standard library here, and a variant imports its server after `vulnerable_options`: run
bare, it refuses at once, not after the second it takes to import the SDK.
"""

import argparse
import sys
from typing import NoReturn

LESSON = "01-basic-mcp"


class LabCommandLine(argparse.ArgumentParser):
    """argparse, whose usage errors also say what the program is and who runs it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.description}\n{self.epilog}\n{self.prog}: error: {message}\n")


def vulnerable_options(lab: str, flaw: str, *flags: str) -> argparse.Namespace:
    """The command line of `lab`'s deliberately vulnerable variant, whose flaw is `flaw`.

    Every flag is required, none defaults to the lesson's address: the variant runs only as its
    lab starts it, never bare where the lesson's server would be. Once started, it says what it is
    on stderr, where its log begins, so that nobody takes it for the lesson's server.
    """
    banner = f"DELIBERATELY VULNERABLE (lab: {lab}): {flaw}"
    parser = LabCommandLine(
        prog=f"python -m {LESSON}.labs.{lab}.vulnerable",
        description=banner,
        epilog=f"Only its lab starts it, with the arguments it needs: python -m {LESSON}.labs.{lab}",
    )
    for flag in flags:
        parser.add_argument(flag, required=True)
    options = parser.parse_args()
    print(banner, file=sys.stderr, flush=True)
    return options
