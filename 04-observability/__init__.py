"""Lesson 04: OpenTelemetry traces, metrics and logs across client, server and upstream."""
