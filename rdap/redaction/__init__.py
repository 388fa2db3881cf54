"""Redaction: the one stage that turns a FullDocument into a RedactedDocument, driven by policy.

Public names: `redact`, `RedactedDocument`, `json_bytes`, `Policy`, `load_policy`,
`PolicyError`. A RedactedDocument is read-only all the way down (see its docstring);
`json_bytes` serializes it. The policy files and their vocabulary are described in
policies/README.md.
"""

from __future__ import annotations

from rdap.redaction.engine import RedactedDocument, redact
from rdap.redaction.policy import Policy, PolicyError, load_policy
from rdap.redaction.readonly import json_bytes

__all__ = ["Policy", "PolicyError", "RedactedDocument", "json_bytes", "load_policy", "redact"]
