"""Renderers: turn a RedactedDocument (and only that) into bytes for one channel."""
