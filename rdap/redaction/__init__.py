"""Redaction: the one stage that turns a FullDocument into a RedactedDocument, driven by policy.

Public names: `redact`, `RedactedDocument`, `Policy`, `load_policy`, `PolicyError`. The policy
files and their vocabulary are described in policies/README.md.
"""

from __future__ import annotations

from rdap.redaction.engine import RedactedDocument, redact
from rdap.redaction.policy import Policy, PolicyError, load_policy

__all__ = ["Policy", "PolicyError", "RedactedDocument", "load_policy", "redact"]
