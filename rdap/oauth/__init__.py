"""The built-in OAuth 2.0 authorization server (client credentials, RFC 9068 JWT access tokens)."""
