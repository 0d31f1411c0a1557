"""Lesson 02: the caller's token in a per-request context, and an authenticated upstream call."""
