"""A local stand-in for https://httpbin.org/anything: `python -m 04-observability.upstream`."""
