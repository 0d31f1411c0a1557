"""Run a program in a network namespace where loopback is the only interface: `python -m ...loopback_only PROGRAM ARGS`.

Started by `unshare --net --map-root-user` (conformance.py): the new namespace has a loopback
interface, down, and nothing else. Bring it up, then become PROGRAM: whatever it listens on, on
any interface, only this namespace can reach. The same as `ip link set lo up`, with no `ip` needed.
"""

import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1  # linux/sockios.h, linux/if.h


def bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


if __name__ == "__main__":
    bring_up_loopback()
    os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 -- the program and its arguments, as given: no shell
