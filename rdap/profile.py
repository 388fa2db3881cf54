"""Service profile: operator identity, notices and conformance values, loaded from TOML."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

# Where this service serves its own terms of service.
TERMS_HREF = "{base_url}/terms"


class ProfileError(ValueError):
    """The service profile file is missing or malformed."""


@dataclasses.dataclass(frozen=True)
class Notice:
    title: str
    description: tuple[str, ...]
    link: dict[str, str] | None
    objects: frozenset[str] | None  # object classes it applies to; None: every answer


@dataclasses.dataclass(frozen=True)
class WhoisProfile:
    """What port-43 answers say besides the data (the [whois] table); every default is neutral:
    a gTLD operator names ICANN's placeholder, status URLs and complaint form there."""

    # The value a hidden field shows.
    placeholder: str = "REDACTED FOR PRIVACY"
    # Written after each domain status, "{status}" being the EPP status; empty: the status only.
    status_url: str = ""
    # The "URL of the ICANN Whois Inaccuracy Complaint Form" line of domain answers; empty: none.
    inaccuracy_form_url: str = ""
    # Lines after a domain answer's last-update line.
    domain_notice: tuple[str, ...] = ()
    # The terms of use, at the end of every answer.
    terms_of_use: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Profile:
    operator_name: str
    port43: str
    contact_uri: str
    terms_of_service_url: str
    conformance: tuple[str, ...]
    notices: tuple[Notice, ...]
    help_description: tuple[str, ...]
    # The terms of service served at {base_url}/terms: a title and its paragraphs.
    terms_title: str = "Terms of Service"
    terms: tuple[str, ...] = ()
    whois: WhoisProfile = WhoisProfile()
    # The disclosure-request process page ({base_url}/disclosure-policy): how answers are
    # delivered and where to ask questions, one string per paragraph.
    disclosure_delivery: tuple[str, ...] = ()
    disclosure_contact: tuple[str, ...] = ()

    def notices_for(self, object_class: str) -> tuple[Notice, ...]:
        return tuple(n for n in self.notices if n.objects is None or object_class in n.objects)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{where}: expected a list of strings")
    return tuple(value)


def load_profile(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read service profile {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"service profile {path}: {exc}") from None
    operator = data.get("operator", {})
    notices = []
    for i, raw in enumerate(data.get("notices", [])):
        where = f"{path}: notices[{i}]"
        if not isinstance(raw.get("title"), str):
            raise ProfileError(f"{where}: title is required")
        link = raw.get("link")
        if link is not None and not (isinstance(link, dict) and "href" in link and "rel" in link):
            raise ProfileError(f"{where}: link needs rel and href")
        objects = raw.get("objects")
        notices.append(
            Notice(
                title=raw["title"],
                description=_strings(raw.get("description", []), where),
                link=dict(link) if link else None,
                objects=frozenset(_strings(objects, where)) if objects is not None else None,
            )
        )
    conformance = _strings(data.get("conformance", {}).get("values", ["rdap_level_0"]), path.name)
    if "rdap_level_0" not in conformance:
        raise ProfileError(f"{path}: conformance values must include rdap_level_0")
    terms = data.get("terms", {})
    terms_text = _strings(terms.get("text", []), f"{path.name}: terms.text")
    local_terms = [n.link["href"] for n in notices if n.link] + [
        str(operator.get("terms_of_service_url", ""))
    ]
    if not terms_text and any(href.startswith(TERMS_HREF) for href in local_terms):
        raise ProfileError(f"{path}: links point to {TERMS_HREF} but [terms] has no text")
    whois = data.get("whois", {})
    if not isinstance(whois, dict):
        raise ProfileError(f"{path}: [whois] must be a table")
    unknown = set(whois) - {f.name for f in dataclasses.fields(WhoisProfile)}
    if unknown:
        raise ProfileError(f"{path}: [whois] has unknown keys {sorted(unknown)}")
    texts = {k: v for k, v in whois.items() if k not in ("domain_notice", "terms_of_use")}
    for key, value in texts.items():
        if not isinstance(value, str):
            raise ProfileError(f"{path}: [whois] {key} must be a string")
    whois_profile = WhoisProfile(
        **texts,
        domain_notice=_strings(whois.get("domain_notice", []), "[whois] domain_notice"),
        terms_of_use=_strings(whois.get("terms_of_use", []), "[whois] terms_of_use"),
    )
    if not whois_profile.placeholder.strip():
        raise ProfileError(f"{path}: [whois] placeholder must not be empty")
    return Profile(
        whois=whois_profile,
        operator_name=str(operator.get("name", "")),
        port43=str(operator.get("port43", "")),
        contact_uri=str(operator.get("contact_uri", "")),
        terms_of_service_url=str(operator.get("terms_of_service_url", "")),
        conformance=conformance,
        notices=tuple(notices),
        help_description=_strings(data.get("help", {}).get("description", []), "help"),
        terms_title=str(terms.get("title", "Terms of Service")),
        terms=terms_text,
        disclosure_delivery=_strings(
            data.get("disclosure", {}).get("delivery", []), "disclosure.delivery"
        ),
        disclosure_contact=_strings(
            data.get("disclosure", {}).get("contact", []), "disclosure.contact"
        ),
    )
