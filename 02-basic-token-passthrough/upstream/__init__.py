"""A local stand-in for https://httpbin.org/anything: `python -m 02-basic-token-passthrough.upstream`."""
