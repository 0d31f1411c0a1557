"""DELIBERATELY VULNERABLE: lesson 05's proxy passing every tool definition through as its backend wrote it.

A proxy that lists its backends' tools for a client decides what the client's model reads. This
variant decides nothing: no tool filter, and no pins (`pinTools` off), so a description with
instructions for the model in it reaches the model word for word, as through most proxies today
(the README's comparison). Do not use it for anything but this lab.
"""

OPTIONS = {"pinTools": False}  # and no toolFilter: every tool, every description, as the backend wrote them
