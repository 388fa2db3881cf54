"""Disclosure requests: accreditation, requests, review, grants and their audit (SSAD-style).

Business rules live in `service` (one transaction and its audit entries per operation), the
state machine in `workflow`, SLA clocks in `sla`, request bodies in `schemas`, what a lookup
needs at query time in `access`, and the command line in `commands`.
"""
