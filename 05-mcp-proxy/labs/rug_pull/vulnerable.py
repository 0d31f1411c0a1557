"""DELIBERATELY VULNERABLE: lesson 05's proxy serving whatever definition a backend gives a tool, now.

A backend may change its tools whenever it likes, and say so (`notifications/tools/list_changed`);
a proxy re-lists them and shows its clients the new ones. This variant does that with no pins
(`pinTools` off): a tool that was reviewed, approved and used yesterday comes back today with new
instructions for the model in its description, and nobody but the model reads them. Do not use
it for anything but this lab.
"""

OPTIONS = {"pinTools": False}  # every change a backend makes reaches the model, unreviewed
