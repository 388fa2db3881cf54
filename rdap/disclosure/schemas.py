"""Request bodies of the disclosure API as marshmallow schemas, and their field-level errors.

The schemas check form (types, lengths, closed vocabularies); rules that need the caller or
the database (the accreditation's purposes, a registered domain, urgent for law enforcement
only) are checked by the service, which reports every error of a body at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from rdap.disclosure.sla import PRIORITIES, STANDARD
from rdap.errors import Unprocessable

# TLP 2.0 labels, exactly as FIRST writes them (capitals, no spaces).
TLP_LABELS = ("TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR")
DEFAULT_TLP = "TLP:AMBER+STRICT"
# Reason codes of a decision (disclosure.md §2.3); several may apply.
REASON_CODES = (
    "incomplete_request",
    "insufficient_legal_basis",
    "purpose_not_permitted",
    "data_not_necessary",
    "rights_override",
    "data_is_public",
    "privacy_proxy",
    "not_sponsored_or_wrong_party",
    "requester_identity_unverified",
    "other",
)
APPROVE, DENY, REQUEST_INFORMATION = "approve", "deny", "request_information"
DECISIONS = (APPROVE, DENY, REQUEST_INFORMATION)
MIN_RATIONALE = 30
MAX_RATIONALE = 8000
MAX_SHORT_TEXT = 500
MAX_LONG_TEXT = 4000
MIN_GRANT_DAYS, MAX_GRANT_DAYS = 1, 90
MAX_ELEMENTS = 64
_REQUIRED: dict[str, Any] = {
    "required": "this field is required",
    "null": "this field may not be null",
}


class ValidationFailed(Unprocessable):
    """A body failed validation: `errors` maps each field to its messages (422)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("the request is not valid; see errors for each field")
        self.errors = {name: list(messages) for name, messages in sorted(errors.items())}


def _clean(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _text(minimum: int, maximum: int) -> list[Any]:
    """Validators for free text: trimmed length within bounds, no NUL."""

    def length(value: str) -> None:
        size = len(value.strip())
        if size < minimum:
            raise ValidationError(
                "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
            )
        if len(value) > maximum:
            raise ValidationError(f"must be at most {maximum} characters")

    return [length, _clean]


def _string(**kwargs: Any) -> fields.String:
    messages: dict[str, Any] = {**_REQUIRED, "invalid": "must be a string"}
    return fields.String(error_messages=messages, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON true or false, nothing else (no "yes", 1 or "true")."""

    default_error_messages = {"invalid": "must be true or false"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    """A JSON integer, nothing else (no 7.0, "7" or true)."""

    default_error_messages = {"invalid": "must be an integer"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


def _elements(**kwargs: Any) -> fields.List[Any]:
    return fields.List(
        _string(validate=validate.Length(min=1, max=100)),
        error_messages={**_REQUIRED, "invalid": "must be a list of element ids"},
        **kwargs,
    )


class _Body(Schema):
    class Meta:
        unknown = RAISE


class SubmitSchema(_Body):
    """POST /disclosure/requests."""

    domain = _string(required=True, validate=_text(1, 1024))
    purpose = _string(required=True, validate=_text(1, 64))
    legal_basis = _string(required=True, validate=_text(1, MAX_SHORT_TEXT))
    rationale = _string(required=True, validate=_text(MIN_RATIONALE, MAX_RATIONALE))
    data_elements = _elements(
        required=True,
        validate=validate.Length(
            min=1, max=MAX_ELEMENTS, error="must name between {min} and {max} elements"
        ),
    )
    priority = _string(
        load_default=STANDARD,
        validate=validate.OneOf(PRIORITIES, error="must be one of: {choices}"),
    )
    urgent_justification = _string(
        load_default=None, allow_none=True, validate=_text(1, MAX_LONG_TEXT)
    )
    confidential = StrictBoolean(load_default=False)
    tlp = _string(
        load_default=DEFAULT_TLP,
        validate=validate.OneOf(TLP_LABELS, error="must be one of the TLP 2.0 labels: {choices}"),
    )
    good_faith_affirmation = StrictBoolean(
        required=True,
        error_messages=_REQUIRED,
        validate=validate.Equal(True, error="must be true (the request is made in good faith)"),
    )


class InformationSchema(_Body):
    """POST /disclosure/requests/{id}/information: the requester's answer."""

    rationale = _string(required=True, validate=_text(MIN_RATIONALE, MAX_RATIONALE))
    legal_basis = _string(validate=_text(1, MAX_SHORT_TEXT))
    data_elements = _elements(
        validate=validate.Length(
            min=1, max=MAX_ELEMENTS, error="must name between {min} and {max} elements"
        )
    )


class BalancingTestSchema(_Body):
    """The GDPR Art. 6(1)(f) balancing test as a reviewer applied it."""

    interest = _string(required=True, validate=_text(1, MAX_LONG_TEXT))
    necessity = _string(required=True, validate=_text(1, MAX_LONG_TEXT))
    impact = _string(required=True, validate=_text(1, MAX_LONG_TEXT))
    safeguards = _string(required=True, validate=_text(1, MAX_LONG_TEXT))
    outcome = _string(required=True, validate=_text(1, MAX_LONG_TEXT))


class DecisionSchema(_Body):
    """POST /disclosure/requests/{id}/decision (staff)."""

    action = _string(
        required=True, validate=validate.OneOf(DECISIONS, error="must be one of: {choices}")
    )
    data_elements = _elements(
        validate=validate.Length(
            min=1, max=MAX_ELEMENTS, error="must name between {min} and {max} elements"
        )
    )
    valid_days = StrictInteger(
        validate=validate.Range(
            min=MIN_GRANT_DAYS, max=MAX_GRANT_DAYS, error="must be between {min} and {max} days"
        )
    )
    reasons = fields.List(
        _string(validate=validate.OneOf(REASON_CODES, error="must be one of: {choices}")),
        error_messages={"invalid": "must be a list of reason codes"},
        validate=validate.Length(max=len(REASON_CODES)),
    )
    rationale = _string(validate=_text(1, MAX_RATIONALE))
    balancing_test = fields.Nested(BalancingTestSchema)


class PrioritySchema(_Body):
    """POST /disclosure/requests/{id}/priority (staff): reclassify."""

    priority = _string(
        required=True, validate=validate.OneOf(PRIORITIES, error="must be one of: {choices}")
    )
    rationale = _string(required=True, validate=_text(1, MAX_LONG_TEXT))


class RevokeSchema(_Body):
    """POST /disclosure/grants/{id}/revoke (staff)."""

    reason = _string(required=True, validate=_text(1, MAX_LONG_TEXT))


# Members a requester might send to ask for more than one domain, or to search by a contact:
# the query policy allows neither (EPDP Phase 2), so they get a message of their own.
_BULK = ("domains", "names", "domain_names")
_REVERSE = ("email", "entity", "handle", "contact", "registrant", "fn", "nameserver", "ip")
UNKNOWN = "_unknown"


def field_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow's messages as {field: [message, ...]}; nested ones flattened with dots.

    Members this API does not define are reported under `_unknown` (a name the caller chose is
    not echoed), except the bulk and reverse-query names, which get their own explanation."""
    out: dict[str, list[str]] = {}
    if not isinstance(messages, Mapping):
        return {"_schema": [str(m) for m in _as_list(messages)]}
    for name, value in messages.items():
        if value == ["Unknown field."]:
            if name in _BULK:
                out[name] = ["one request per domain: submit each domain on its own"]
            elif name in _REVERSE:
                out[name] = ["reverse queries are not allowed: a request names one domain"]
            else:
                out.setdefault(UNKNOWN, ["members not defined by this API are not accepted"])
            continue
        if isinstance(value, Mapping):
            for key, nested in value.items():
                if isinstance(key, int):
                    out.setdefault(name, []).extend(
                        f"item {key + 1}: {m}" for m in _as_list(nested)
                    )
                else:
                    for sub, msgs in field_errors({key: nested}).items():
                        target = name if sub == UNKNOWN else f"{name}.{sub}"
                        out.setdefault(target, []).extend(msgs)
        else:
            out.setdefault(name, []).extend(str(m) for m in _as_list(value))
    return out


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(_as_list(item))
        return flat
    if isinstance(value, Mapping):
        return [m for v in value.values() for m in _as_list(v)]
    return [value]


def load(schema: Schema, body: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(valid fields, errors of the others): the caller adds its own checks, then reports
    everything at once."""
    if not isinstance(body, Mapping):
        return {}, {"_schema": ["the request body must be a JSON object"]}
    try:
        data: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, field_errors(exc.messages)
    return data, {}
