"""Redaction: the one stage that turns a FullDocument into a RedactedDocument, driven by policy.

Public names: `redact`, `RedactedDocument`, `json_bytes`, `Policy`, `load_policy`,
`PolicyError`, `with_notices`. A RedactedDocument is read-only all the way down (see its docstring);
`json_bytes` serializes it. Answers that report on contacts outside an RDAP document (the
accuracy report, complaints) take the same decisions from `contact_decisions` and declare
what they leave out with `removal_declaration`. The policy files and their vocabulary are
described in policies/README.md.
"""

from __future__ import annotations

from rdap.redaction.engine import (
    Decision,
    RedactedDocument,
    contact_decisions,
    redact,
    removal_declaration,
    with_notices,
)
from rdap.redaction.policy import Policy, PolicyError, load_policy
from rdap.redaction.readonly import json_bytes

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "RedactedDocument",
    "contact_decisions",
    "json_bytes",
    "load_policy",
    "redact",
    "removal_declaration",
    "with_notices",
]
