"""Tests of the built-in authorization server."""
