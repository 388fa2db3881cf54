"""Escrow deposits (RFC 8909 / RFC 9022): parse, load, generate."""
