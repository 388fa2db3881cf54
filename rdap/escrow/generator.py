"""Deposit generator: writes a realistic RFC 8909/9022 FULL deposit for demos, tests and benchmarks.

The registry it describes is a sponsored community TLD (default `.post`): registrants are
mostly postal operators and logistics firms (legal persons with community IDs), with a few
natural persons; admin and tech contacts are natural persons; names exist in ASCII and as IDNs
(Arabic, Chinese, Spanish) with IDN table references and Chinese variants; every delegation is
signed (DS, algorithm 13, digest type 2); some names are protected as NNDNs. Facts the standard
lacks go in the rdapd extension (docs/escrow-extension.md).

Everything is derived from (tld, size, seed): the same arguments write the same bytes.
Output is streamed object by object, so memory stays flat for any size. The data choices are
made once, as the records the parser reads back (`generate_records`); `write_deposit` writes
those records as XML, and the PostgreSQL bulk loader of the benchmarks loads them directly.

With `markers=True` every personal value of a natural person (name, street, city, postal code,
phone, fax, email) carries a unique marker: `PII-<kind>-<n:07d>` (fixed width, so no marker
contains another), and for phones the digit patterns `+<cc>.8801<n:08d>` (voice) and
`+<cc>.8802<n:08d>` (fax). They are listed in `GeneratedDeposit.markers`, so leak tests can
search every channel for them.
"""

# The XML writer emits each object with one flat sequence of writes: long by nature.
# ruff: noqa: PLR0912

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final, NamedTuple
from xml.sax.saxutils import escape

import idna

from rdap.escrow import parser as p

DEFAULT_WATERMARK: Final = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
# Progress reports: (what, done, total), every PROGRESS_EVERY objects of that kind.
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY: Final = 1000


@dataclasses.dataclass(frozen=True)
class PiiMarker:
    """One personal value of a natural person, as written into the deposit."""

    kind: str  # name, street, city, pc, voice, fax, email
    contact: str  # contact id (handle)
    value: str


@dataclasses.dataclass(frozen=True)
class GeneratedDeposit:
    """What was written: where, for which registry, how many objects, and the PII markers."""

    path: Path | None
    tld: str
    size: int
    seed: int
    deposit_id: str
    watermark: dt.datetime
    counts: dict[str, int]  # object URI → number of objects (as in the header)
    markers: tuple[PiiMarker, ...]

    @property
    def marker_values(self) -> tuple[str, ...]:
        return tuple(m.value for m in self.markers)


# --- reference data --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Registrar:
    clid: str
    name: str
    iana_id: int
    cc: str
    city: str
    sp: str | None
    pc: str | None
    street: str
    voice: str
    domain: str
    weight: int
    status: str = "ok"


REGISTRARS: Final = (
    _Registrar(
        "postreg",
        "PostReg Registrar Services SA",
        9995,
        "CH",
        "Bern",
        "BE",
        "3030",
        "Weltpoststrasse 4",
        "+41.313501111",
        "postreg.example",
        30,
    ),
    _Registrar(
        "mailnames",
        "MailNames Ltd",
        9996,
        "GB",
        "London",
        None,
        "EC1A 1BB",
        "1 King Edward Street",
        "+44.2076001234",
        "mailnames.example",
        20,
    ),
    _Registrar(
        "correodom",
        "Correo Dominios S.L.",
        9997,
        "ES",
        "Madrid",
        "M",
        "28042",
        "Vía Dublín 7",
        "+34.915960100",
        "correodom.example",
        15,
    ),
    _Registrar(
        "barid-net",
        "Barid Net FZ-LLC",
        9998,
        "AE",
        "Dubai",
        "DU",
        None,
        "Dubai Internet City, Building 12",
        "+971.43901234",
        "baridnet.example",
        10,
    ),
    _Registrar(
        "youzheng",
        "Youzheng Names Co., Ltd.",
        9999,
        "CN",
        "Beijing",
        "BJ",
        "100808",
        "7 Jinrong Street",
        "+86.1066001234",
        "youzheng.example",
        10,
    ),
    _Registrar(
        "parcelreg",
        "ParcelReg Inc.",
        3801,
        "US",
        "Memphis",
        "TN",
        "38118",
        "3131 Democrat Road",
        "+1.9013691000",
        "parcelreg.example",
        8,
    ),
    _Registrar(
        "logidom",
        "LogiDom GmbH",
        4204,
        "DE",
        "Bonn",
        "NW",
        "53113",
        "Charles-de-Gaulle-Strasse 20",
        "+49.2281820",
        "logidom.example",
        5,
    ),
    _Registrar(
        "oldpost",
        "Old Post Registrar Corp.",
        5150,
        "CA",
        "Ottawa",
        "ON",
        "K1A 0B1",
        "2701 Riverside Drive",
        "+1.6137341000",
        "oldpost.example",
        2,
        "readonly",
    ),
)


@dataclasses.dataclass(frozen=True)
class _Country:
    cc: str
    calling: str
    city: str
    sp: str | None
    pc: str | None
    street: str  # with {n} for the house number
    suffix: str
    first: tuple[str, ...]
    last: tuple[str, ...]
    native_city: str | None = None
    native_org: str | None = None  # loc org name template with {k}


_ES_FIRST = ("Ana", "Lucía", "Javier", "Carmen", "Diego", "Sofía", "Mateo", "Valeria")
_ES_LAST = ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz")
_EN_FIRST = ("James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily")
_EN_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Clark", "Lewis")
_DE_FIRST = ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Hannah")
_DE_LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Koch")
_AR_FIRST = ("Ahmed", "Fatima", "Omar", "Layla", "Youssef", "Mariam", "Khaled", "Noura")
_AR_LAST = ("Haddad", "Mansour", "Khalil", "Nasser", "Saleh", "Hamdan", "Aziz", "Farouk")
_ZH_FIRST = ("Wei", "Fang", "Jing", "Lei", "Min", "Hui", "Qiang", "Yan")
_ZH_LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang")

COUNTRIES: Final = (
    _Country(
        "ES", "34", "Madrid", "M", "28001", "Calle de Alcalá {n}", "S.A.", _ES_FIRST, _ES_LAST
    ),
    _Country(
        "MX",
        "52",
        "Ciudad de México",
        "CMX",
        "06000",
        "Avenida Juárez {n}",
        "S.A. de C.V.",
        _ES_FIRST,
        _ES_LAST,
    ),
    _Country(
        "AR", "54", "Buenos Aires", "C", "C1002", "Avenida de Mayo {n}", "S.A.", _ES_FIRST, _ES_LAST
    ),
    _Country(
        "DE", "49", "Hamburg", "HH", "20095", "Mönckebergstraße {n}", "GmbH", _DE_FIRST, _DE_LAST
    ),
    _Country(
        "US", "1", "Washington", "DC", "20260", "{n} L'Enfant Plaza SW", "Inc.", _EN_FIRST, _EN_LAST
    ),
    _Country(
        "GB", "44", "Manchester", None, "M1 1AA", "{n} Piccadilly", "Ltd", _EN_FIRST, _EN_LAST
    ),
    _Country(
        "KE", "254", "Nairobi", "30", "00100", "{n} Kenyatta Avenue", "Ltd", _EN_FIRST, _EN_LAST
    ),
    _Country("NG", "234", "Lagos", "LA", "100001", "{n} Broad Street", "Ltd", _EN_FIRST, _EN_LAST),
    _Country(
        "IN", "91", "New Delhi", "DL", "110001", "{n} Sansad Marg", "Pvt Ltd", _EN_FIRST, _EN_LAST
    ),
    _Country(
        "CN",
        "86",
        "Beijing",
        "BJ",
        "100808",
        "{n} Jinrong Street",
        "Co., Ltd.",
        _ZH_FIRST,
        _ZH_LAST,
        "北京",
        "环球物流{k}有限公司",
    ),
    _Country(
        "AE",
        "971",
        "Dubai",
        "DU",
        None,
        "Building {n}, Sheikh Zayed Road",
        "LLC",
        _AR_FIRST,
        _AR_LAST,
        "دبي",
        "شركة البريد السريع {k}",
    ),
    _Country(
        "EG",
        "20",
        "Cairo",
        "C",
        "11511",
        "{n} Ramses Street",
        "S.A.E.",
        _AR_FIRST,
        _AR_LAST,
        "القاهرة",
        "مصر للشحن {k}",
    ),
    _Country(
        "BR", "55", "Brasília", "DF", "70002-900", "SBN Quadra {n}", "Ltda.", _ES_FIRST, _ES_LAST
    ),
    _Country("SE", "46", "Solna", "AB", "169 70", "Terminalvägen {n}", "AB", _EN_FIRST, _EN_LAST),
)

ORG_PREFIXES: Final = (
    "Nordic",
    "Atlas",
    "Meridian",
    "Andes",
    "Sahara",
    "Pacific",
    "Danube",
    "Swift",
    "Orion",
    "Harbor",
    "Cedar",
    "Lotus",
    "Baobab",
    "Condor",
    "Aurora",
)
ORG_KINDS: Final = (
    "Post",
    "Parcel Services",
    "Logistics",
    "Courier",
    "Mail Solutions",
    "Freight",
    "Express",
    "Postal Operator",
)
ORG_GROUPS: Final = (
    "designated-operator",
    "logistics-provider",
    "postal-union",
    "standards-body",
    "postal-supplier",
)

ASCII_WORDS_1: Final = (
    "express",
    "parcel",
    "swift",
    "global",
    "nordic",
    "metro",
    "rapid",
    "harbor",
    "atlas",
    "prime",
    "urban",
    "coastal",
    "alpine",
    "desert",
    "royal",
    "union",
    "central",
    "pacific",
    "andes",
    "sahel",
)
ASCII_WORDS_2: Final = (
    "mail",
    "post",
    "courier",
    "logistics",
    "freight",
    "delivery",
    "parcels",
    "letters",
    "stamps",
    "depot",
    "hub",
    "cargo",
    "routes",
    "sorting",
    "dispatch",
    "lockers",
    "transit",
    "shipping",
    "postbox",
    "relay",
)
# Real words, valid under IDNA 2008 and the usual LGRs (digits: Arabic-Indic for Arabic).
AR_WORDS_1: Final = ("بريد", "طرود", "شحن", "توصيل", "رسائل", "طوابع")
AR_WORDS_2: Final = ("سريع", "دولي", "محلي", "آمن", "مباشر", "حديث")
ZH_WORDS_1: Final = (
    "邮政",
    "快递",
    "邮局",
    "递送",
    "国际",
    "邮件",
)  # each has a traditional variant
ZH_WORDS_2: Final = ("物流", "包裹", "服务", "中心", "网络", "速递")
ES_WORDS_1: Final = ("envíos", "logística", "mensajería", "paquetería", "almacén", "camión")
ES_WORDS_2: Final = ("rápidos", "urgentes", "nacional", "del-sur", "del-norte", "express")
ZH_TRADITIONAL: Final = {
    "邮": "郵",
    "递": "遞",
    "国": "國",
    "际": "際",
    "务": "務",
    "网": "網",
    "络": "絡",
    "这": "這",
}
AR_DIGITS: Final = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

IDN_TABLES: Final = (
    ("ar", "https://www.iana.org/domains/idn-tables/tables/post_ar_1.0.txt"),
    ("zh", "https://www.iana.org/domains/idn-tables/tables/post_zh_1.0.txt"),
    ("es", "https://www.iana.org/domains/idn-tables/tables/post_es_1.0.txt"),
)
EXTERNAL_HOSTS: Final = (
    "ns1.dnsprovider-a.net",
    "ns2.dnsprovider-a.net",
    "ns1.cloudzone.com",
    "ns2.cloudzone.com",
    "a.ns.mailhost.org",
    "b.ns.mailhost.org",
)
# (label, nameState, reason, IDN table, originalName label)
PROTECTED: Final = (
    ("upu", "withheld", "reserved for the Universal Postal Union", None, None),
    ("postal", "withheld", "protected for the postal community", None, None),
    ("poste", "withheld", "protected for the postal community", None, None),
    ("correos", "withheld", "protected for the postal community", None, None),
    ("stamp", "withheld", "protected for the postal community", None, None),
    ("nic", "blocked", "registry operations name", None, None),
    ("whois", "blocked", "registry operations name", None, None),
    ("rdap", "blocked", "registry operations name", None, None),
    ("example", "blocked", "reserved by RFC 2606", None, None),
    ("بريد", "withheld", "protected for the postal community", "ar", None),
    ("邮政", "withheld", "protected for the postal community", "zh", None),
    ("郵政", "blocked", "blocked variant of a protected name", "zh", "邮政"),
)

STATUS_CHOICES: Final = (
    (0.70, ("ok",), ()),
    (0.80, ("clientTransferProhibited",), ()),
    (0.86, ("clientDeleteProhibited", "clientTransferProhibited", "clientUpdateProhibited"), ()),
    (0.90, ("serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited"), ()),
    (0.92, ("clientHold",), ()),
    (0.93, ("serverHold", "clientTransferProhibited"), ()),
    (0.95, ("pendingDelete",), ("redemptionPeriod",)),
    (0.96, ("pendingDelete",), ("pendingDelete",)),
    (0.98, ("ok",), ("addPeriod",)),
    (1.00, ("ok",), ("autoRenewPeriod",)),
)
VERIFICATION_CHOICES: Final = (
    (0.60, "verified"),
    (0.75, "pending"),
    (0.95, "unverified"),
    (1.00, "failed"),
)
VERIFICATION_METHODS: Final = ("email-link", "sms-code", "document-check", "registrar-attested")


def _ascii_label(i: int, seed: int) -> str:
    combos = len(ASCII_WORDS_1) * len(ASCII_WORDS_2)
    q, r = divmod(i, combos)
    r = (r * 7919 + seed) % combos  # a permutation: 7919 is prime and does not divide combos
    w1, w2 = ASCII_WORDS_1[r // len(ASCII_WORDS_2)], ASCII_WORDS_2[r % len(ASCII_WORDS_2)]
    return f"{w1}-{w2}" if q == 0 else f"{w1}-{w2}{q}"


def _idn_label(script: str, m: int) -> str:
    words_1, words_2 = {
        "ar": (AR_WORDS_1, AR_WORDS_2),
        "zh": (ZH_WORDS_1, ZH_WORDS_2),
        "es": (ES_WORDS_1, ES_WORDS_2),
    }[script]
    combos = len(words_1) * len(words_2)
    q, r = divmod(m, combos)
    w1, w2 = words_1[r // len(words_2)], words_2[r % len(words_2)]
    number = str(q + 1)
    if script == "ar":
        return f"{w1}{w2}{number.translate(AR_DIGITS)}"
    if script == "zh":
        return f"{w1}{w2}{number}"
    return f"{w1}-{w2}-{number}"


def _traditional(label: str) -> str:
    return "".join(ZH_TRADITIONAL.get(ch, ch) for ch in label)


def _a_label(u_label: str) -> str:
    return str(idna.encode(u_label).decode("ascii"))


def _add_years(value: dt.datetime, years: int) -> dt.datetime:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def _x(value: str) -> str:
    return escape(value)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z")


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Counts and layout, derived from size alone so the header can be written first."""

    size: int
    n_providers: int
    n_registrants: int
    n_tech: int

    @classmethod
    def of(cls, size: int) -> _Plan:
        return cls(
            size=size,
            n_providers=max(2, size // 2000),
            n_registrants=max(3, size // 4),
            n_tech=4 * len(REGISTRARS),
        )

    def inactive(self, i: int) -> bool:
        return i >= self.n_providers and i % 97 == 13

    def idn_script(self, i: int) -> str | None:
        if i < self.n_providers or i % 20 != 7:
            return None
        return ("ar", "zh", "es")[(i // 20) % 3]

    def own_hosts(self, i: int) -> bool:
        return i >= self.n_providers and i % 50 == 25 and not self.inactive(i)

    def registrant(self, i: int) -> int:
        if self.idn_script(i) == "zh" and self.zh_variant(i):
            i -= 60  # a variant belongs to the registrant of its original name
        return (i * 7 + i // 13) % self.n_registrants

    def zh_variant(self, i: int) -> bool:
        """Every tenth Chinese name after the first is the traditional variant of the one before."""
        return ((i // 20) // 3) % 10 == 1

    def natural_registrant(self, k: int) -> bool:
        return k % 37 == 5

    def registrar(self, k: int) -> _Registrar:
        total = sum(r.weight for r in REGISTRARS)
        slot = (k * 2654435761) % total
        for registrar in REGISTRARS:
            if slot < registrar.weight:
                return registrar
            slot -= registrar.weight
        return REGISTRARS[0]

    def host_count(self) -> int:
        own = sum(1 for i in range(self.size) if self.own_hosts(i))
        return 2 * self.n_providers + len(EXTERNAL_HOSTS) + 2 * own

    def contact_count(self) -> int:
        return 2 * self.n_registrants + self.n_tech


class _Domain(NamedTuple):
    """A domain as the registry holds it, and how many of its statuses (the last ones) are RGP
    statuses: the deposit writes those as rgpStatus, the parser appends them to the EPP ones."""

    record: p.DomainRecord
    rgp: int


# What the registry yields, in deposit order: parser records, domains with their RGP split.
_Object = p.Record | _Domain


class _Registry:
    """The data choices: every object of the registry of (tld, size, seed), in deposit order,
    as the records the parser reads from its deposit (line numbers 0)."""

    def __init__(
        self,
        tld: str,
        *,
        size: int,
        seed: int,
        markers: bool,
        watermark: dt.datetime,
        progress: Progress | None = None,
    ) -> None:
        self.progress = progress
        self.tld = tld
        self.seed = seed
        self.markers_on = markers
        self.watermark = watermark
        self.plan = _Plan.of(size)
        self.markers: list[PiiMarker] = []
        self.person_n = 0
        self.contact_n = 0
        self.roid_suffix = "".join(ch for ch in tld.upper() if ch.isalnum())[:8]
        # Contact ids name the TLD's repository too, so that generated registries of several
        # TLDs can be served side by side (one contact id never names two contacts there).
        self.handle_suffix = self.roid_suffix[:6]
        self.counts = {
            p.DOMAIN: size,
            p.HOST: self.plan.host_count(),
            p.CONTACT: self.plan.contact_count(),
            p.REGISTRAR: len(REGISTRARS),
            p.IDN: len(IDN_TABLES),
            p.NNDN: len(PROTECTED),
        }
        self.deposit_id = deposit_id_for(watermark, seed)

    def objects(self) -> Iterator[_Object]:
        yield p.DepositInfo("FULL", self.deposit_id, None, 0, self.watermark, 0)
        yield p.Header(self.tld, [p.HeaderCount(uri, n, 0) for uri, n in self.counts.items()], 0)
        yield from self.registrars()
        yield from self.idn_tables()
        yield from self.contacts()
        yield from self.hosts()
        yield from self.domains()
        if self.progress is not None:
            self.progress("domains", self.plan.size, self.plan.size)
        yield from self.nndn()

    # -- helpers --
    def rng(self, section: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}/{section}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def date_between(self, rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        span = max(1, int((end - start).total_seconds()))
        return start + dt.timedelta(seconds=rng.randrange(span))

    def domain_name(self, i: int) -> tuple[str, str | None, str | None]:
        """(A-label name, IDN table, originalName) of domain i."""
        script = self.plan.idn_script(i)
        if i < self.plan.n_providers:
            return f"dns{i + 1}-hosting.{self.tld}", None, None
        if script is None:
            return f"{_ascii_label(i, self.seed)}.{self.tld}", None, None
        m = (i // 20) // 3
        u_label = _idn_label(script, m)
        original = None
        if script == "zh" and self.plan.zh_variant(i):
            simplified = _idn_label(script, m - 1)
            u_label = _traditional(simplified)
            original = f"{_a_label(simplified)}.{self.tld}"
        return f"{_a_label(u_label)}.{self.tld}", script, original

    def registrant_handle(self, k: int) -> str:
        return f"R{k:07d}-{self.handle_suffix}"

    def admin_handle(self, k: int) -> str:
        return f"A{k:07d}-{self.handle_suffix}"

    def tech_handle(self, j: int) -> str:
        """Tech contact j, of registrar REGISTRARS[j % len(REGISTRARS)]."""
        return f"T{j:03d}-{self.handle_suffix}"

    # -- sections --
    def registrars(self) -> Iterator[p.Record]:
        created = dt.datetime(2014, 3, 1, tzinfo=dt.UTC)
        for n, r in enumerate(REGISTRARS):
            yield p.RegistrarRecord(
                client_id=r.clid,
                name=r.name,
                gurid=r.iana_id,
                status=r.status,
                address=p.Address([r.street], r.city, r.sp, r.pc, r.cc),
                voice=p.Phone(r.voice, None),
                fax=p.Phone(f"{r.voice[:-2]}99", None),
                email=f"info@{r.domain}",
                url=f"https://www.{r.domain}/",
                whois_server=f"whois.{r.domain}",
                whois_url=f"https://whois.{r.domain}/",
                created=created + dt.timedelta(days=40 * n),
                updated=self.watermark - dt.timedelta(days=30 + n),
                line=0,
            )
            yield p.RegistrarFacts(
                r.clid,
                f"https://rdap.{r.domain}/",
                "Abuse Desk",
                f"abuse@{r.domain}",
                f"{r.voice[:-2]}77",
                0,
            )

    def idn_tables(self) -> Iterator[p.Record]:
        for table_id, url in IDN_TABLES:
            yield p.IdnTableRecord(table_id, url, "https://nic.post/idn-policy", 0)

    def _person(self, handle: str, country: _Country, rng: random.Random) -> dict[str, str]:
        """Personal values of one natural person (with markers when asked)."""
        self.person_n += 1
        n = self.person_n
        first, last = rng.choice(country.first), rng.choice(country.last)
        name = f"{first} {last}"
        street = country.street.format(n=rng.randint(1, 250))
        city = country.city
        pc = country.pc or ""
        local = f"{first}.{last}".lower().replace(" ", "")
        email = f"{local}@mail-{country.cc.lower()}.example"
        voice = f"+{country.calling}.{rng.randint(20000000, 79999999)}"
        fax = f"+{country.calling}.{rng.randint(20000000, 79999999)}"
        if self.markers_on:
            name = f"{name} PII-name-{n:07d}"
            street = f"{street} PII-street-{n:07d}"
            city = f"{city} PII-city-{n:07d}"
            pc = f"PII-pc-{n:07d}"
            email = f"{local}.PII-email-{n:07d}@mail-{country.cc.lower()}.example"
            voice = f"+{country.calling}.8801{n:08d}"
            fax = f"+{country.calling}.8802{n:08d}"
            for kind, value in (
                ("name", name),
                ("street", street),
                ("city", city),
                ("pc", pc),
                ("voice", voice),
                ("fax", fax),
                ("email", email),
            ):
                self.markers.append(PiiMarker(kind, handle, value))
        return {
            "name": name,
            "street": street,
            "city": city,
            "pc": pc,
            "email": email,
            "voice": voice,
            "fax": fax,
        }

    def _contact(
        self,
        handle: str,
        registrar: _Registrar,
        country: _Country,
        *,
        person: dict[str, str] | None,
        org: str | None,
        rng: random.Random,
        k: int,
    ) -> p.ContactRecord:
        created = self.date_between(
            rng, dt.datetime(2015, 1, 1, tzinfo=dt.UTC), self.watermark - dt.timedelta(days=30)
        )
        statuses = (
            ["linked", "ok"]
            if rng.random() < 0.85
            else ["linked", "clientDeleteProhibited", "clientTransferProhibited"]
        )
        self.contact_n += 1
        if person is not None:
            name, street, city, pc = person["name"], person["street"], person["city"], person["pc"]
            voice, fax, email = person["voice"], person["fax"], person["email"]
        else:
            name = "Registry Liaison Office"
            street = country.street.format(n=(k % 200) + 1)
            city, pc = country.city, country.pc or ""
            voice = f"+{country.calling}.{30000000 + k % 9000000}"
            fax = ""
            email = f"domains@org{k}.{country.cc.lower()}.example"
        postal = [
            p.PostalInfoRecord(
                "int", name, org, p.Address([street], city, country.sp, pc or None, country.cc)
            )
        ]
        if org and person is None and country.native_org:
            postal.append(
                p.PostalInfoRecord(
                    "loc",
                    name,
                    country.native_org.format(k=k),
                    p.Address([street], country.native_city or city, None, pc or None, country.cc),
                )
            )
        updated = None
        if rng.random() < 0.4:
            updated = self.date_between(rng, created, self.watermark)
        return p.ContactRecord(
            handle=handle,
            roid=f"C{self.contact_n}-{self.roid_suffix}",
            statuses=statuses,
            postal_infos=postal,
            voice=p.Phone(voice, "1234" if person is None and k % 5 == 0 else None),
            fax=p.Phone(fax, None) if fax else None,
            email=email,
            clid=registrar.clid,
            created_by=registrar.clid,
            updated_by=registrar.clid if updated else None,
            created=created,
            updated=updated,
            transferred=None,
            disclose=(
                {"flag": False, "elements": ["name_int", "addr_int", "voice", "fax", "email"]}
                if person is not None
                else None
            ),
            line=0,
        )

    def _facts(
        self,
        handle: str,
        *,
        legal: bool,
        rng: random.Random,
        k: int,
        country: _Country,
        registrant: bool,
    ) -> p.ContactFacts:
        consents: list[p.Consent] = []
        if not legal and rng.random() < 0.04:
            at = self.date_between(rng, dt.datetime(2020, 1, 1, tzinfo=dt.UTC), self.watermark)
            for element in ("name", "email") if rng.random() < 0.5 else ("name", "voice", "email"):
                consents.append(p.Consent(element, at))
        if legal:
            status = "verified" if rng.random() < 0.97 else "pending"
        else:
            draw = rng.random()
            status = next(s for limit, s in VERIFICATION_CHOICES if draw < limit)
        verified_at = method = None
        if status in ("verified", "failed"):
            verified_at = self.date_between(
                rng, dt.datetime(2019, 1, 1, tzinfo=dt.UTC), self.watermark
            )
            method = "document-check" if legal else rng.choice(VERIFICATION_METHODS)
        community = eligible_at = group = None
        if registrant:
            group = ORG_GROUPS[k % len(ORG_GROUPS)] if legal else "individual-member"
            eligible_at = self.date_between(
                rng, dt.datetime(2018, 1, 1, tzinfo=dt.UTC), self.watermark
            )
            community = f"POST-{country.cc}-{k:07d}"
        return p.ContactFacts(
            handle=handle,
            person_kind="legal" if legal else "natural",
            consents=consents,
            verification_status=status,
            verified_at=verified_at,
            verification_method=method,
            community_id=community,
            eligibility_verified_at=eligible_at,
            registrant_group=group,
            line=0,
        )

    def contacts(self) -> Iterator[p.Record]:
        rng = self.rng("contacts")
        for j in range(self.plan.n_tech):
            registrar = REGISTRARS[j % len(REGISTRARS)]
            country = COUNTRIES[(j * 5) % len(COUNTRIES)]
            handle = self.tech_handle(j)
            person = self._person(handle, country, rng)
            yield self._contact(handle, registrar, country, person=person, org=None, rng=rng, k=j)
            yield self._facts(handle, legal=False, rng=rng, k=j, country=country, registrant=False)
        for k in range(self.plan.n_registrants):
            if self.progress is not None and k % PROGRESS_EVERY == 0:
                self.progress("registrants", k, self.plan.n_registrants)
            registrar = self.plan.registrar(k)
            country = COUNTRIES[(k * 11 + self.seed) % len(COUNTRIES)]
            natural = self.plan.natural_registrant(k)
            handle = self.registrant_handle(k)
            if natural:
                person = self._person(handle, country, rng)
                yield self._contact(
                    handle, registrar, country, person=person, org=None, rng=rng, k=k
                )
            else:
                org = (
                    f"{ORG_PREFIXES[k % len(ORG_PREFIXES)]} "
                    f"{ORG_KINDS[(k // len(ORG_PREFIXES)) % len(ORG_KINDS)]} {country.suffix}"
                )
                yield self._contact(handle, registrar, country, person=None, org=org, rng=rng, k=k)
            yield self._facts(
                handle, legal=not natural, rng=rng, k=k, country=country, registrant=True
            )
            admin = self.admin_handle(k)
            person = self._person(admin, country, rng)
            org_name = (
                None if natural else f"{ORG_PREFIXES[k % len(ORG_PREFIXES)]} {country.suffix}"
            )
            yield self._contact(
                admin, registrar, country, person=person, org=org_name, rng=rng, k=k
            )
            yield self._facts(admin, legal=False, rng=rng, k=k, country=country, registrant=False)

    def _host(
        self,
        name: str,
        registrar: _Registrar,
        addrs: list[p.IpAddress],
        rng: random.Random,
        n: int,
    ) -> p.HostRecord:
        created = self.date_between(
            rng, dt.datetime(2015, 1, 1, tzinfo=dt.UTC), self.watermark - dt.timedelta(days=10)
        )
        name, unicode_name = p.normalize_name(name)
        return p.HostRecord(
            name=name,
            unicode_name=unicode_name,
            roid=f"H{n}-{self.roid_suffix}",
            statuses=["linked", "ok"],
            addresses=addrs,
            clid=registrar.clid,
            created_by=registrar.clid,
            updated_by=None,
            created=created,
            updated=None,
            transferred=None,
            line=0,
        )

    def _glue(self, n: int) -> list[p.IpAddress]:
        nets = ("192.0.2", "198.51.100", "203.0.113")
        v6 = ipaddress.IPv6Address(f"2001:db8:{n % 65535:x}::53").compressed
        return [p.IpAddress("v4", f"{nets[n % 3]}.{n % 250 + 1}"), p.IpAddress("v6", v6)]

    def hosts(self) -> Iterator[p.Record]:
        rng = self.rng("hosts")
        n = 0
        for i in range(self.plan.n_providers):
            name = self.domain_name(i)[0]
            registrar = self.plan.registrar(self.plan.registrant(i))
            for prefix in ("ns1", "ns2"):
                n += 1
                yield self._host(f"{prefix}.{name}", registrar, self._glue(n), rng, n)
        for j, name in enumerate(EXTERNAL_HOSTS):
            n += 1
            yield self._host(name, REGISTRARS[j % 3], [], rng, n)
        for i in range(self.plan.n_providers, self.plan.size):
            if self.plan.own_hosts(i):
                name = self.domain_name(i)[0]
                registrar = self.plan.registrar(self.plan.registrant(i))
                for prefix in ("ns1", "ns2"):
                    n += 1
                    yield self._host(f"{prefix}.{name}", registrar, self._glue(n), rng, n)

    def _nameservers(self, i: int, name: str) -> list[str]:
        plan = self.plan
        if plan.inactive(i):
            return []
        if plan.own_hosts(i):
            return [f"ns1.{name}", f"ns2.{name}"]
        if i % 10 == 3:
            pair = (i // 10) % (len(EXTERNAL_HOSTS) // 2)
            return list(EXTERNAL_HOSTS[2 * pair : 2 * pair + 2])
        provider = self.domain_name(i % plan.n_providers)[0]
        return [f"ns1.{provider}", f"ns2.{provider}"]

    def domains(self) -> Iterator[_Domain]:
        rng = self.rng("domains")
        plan = self.plan
        start = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
        suffix = self.roid_suffix
        for i in range(plan.size):
            if self.progress is not None and i % PROGRESS_EVERY == 0:
                self.progress("domains", i, plan.size)
            name, table, original = self.domain_name(i)
            # What parser.normalize_name gives for the lower-case LDH names made here.
            unicode_name = str(idna.decode(name)) if "xn--" in name else None
            k = plan.registrant(i)
            registrar = plan.registrar(k)
            draw = rng.random()
            if plan.inactive(i):
                statuses: tuple[str, ...] = ("inactive",)
                rgp: tuple[str, ...] = ()
            elif i < plan.n_providers:
                statuses, rgp = ("ok",), ()
            else:
                statuses, rgp = next((s, g) for limit, s, g in STATUS_CHOICES if draw < limit)
            if "addPeriod" in rgp:
                created = self.watermark - dt.timedelta(days=rng.randint(1, 4), hours=3)
            else:
                created = self.date_between(rng, start, self.watermark - dt.timedelta(days=60))
            years = max(1, (self.watermark - created).days // 365 + 1)
            expires = _add_years(created, years)
            if "pendingDelete" in statuses:
                expires = self.watermark - dt.timedelta(days=rng.randint(31, 40))
            tech = self.tech_handle(REGISTRARS.index(registrar) + len(REGISTRARS) * (i % 4))
            admin = self.admin_handle(k)
            servers = self._nameservers(i, name)
            updated = None
            if rng.random() < 0.5:
                updated = self.date_between(rng, created, self.watermark)
            ds_data = []
            if servers:
                key_tag = rng.randint(1, 65535)
                digest = hashlib.sha256(f"{self.seed}/{name}/{key_tag}".encode()).hexdigest()
                ds_data.append(p.DsData(key_tag, 13, 2, digest.upper()))
            transferred = None
            if rng.random() < 0.1 and "addPeriod" not in rgp:
                transferred = self.date_between(rng, created, self.watermark)
            record = p.DomainRecord(
                name=name,
                unicode_name=unicode_name,
                roid=f"D{i + 1}-{suffix}",
                idn_table=table,
                original_name=original,
                statuses=[*statuses, *rgp],
                registrant=self.registrant_handle(k),
                contacts=[("admin", admin), ("tech", tech), ("billing", admin)],
                host_objects=servers,
                host_attrs=[],
                clid=registrar.clid,
                created_by=registrar.clid,
                updated_by=registrar.clid if updated else None,
                created=created,
                expires=expires,
                updated=updated,
                transferred=transferred,
                ds_data=ds_data,
                key_data=[],
                max_sig_life=604800 if servers and i % 50 == 0 else None,
                line=0,
            )
            yield _Domain(record, len(rgp))

    def nndn(self) -> Iterator[p.Record]:
        created = dt.datetime(2016, 6, 1, tzinfo=dt.UTC)
        for u_label, state, reason, table, original in PROTECTED:
            name, unicode_name = p.normalize_name(f"{_a_label(u_label)}.{self.tld}")
            yield p.NndnRecord(
                name=name,
                unicode_name=unicode_name,
                idn_table=table,
                original_name=f"{_a_label(original)}.{self.tld}" if original else None,
                state=state,
                mirroring_ns=True,
                created=created,
                line=0,
            )
            yield p.ProtectedName(name, reason, 0)


# --- the deposit: records as RFC 8909/9022 XML -----------------------------------------------


def _xml_address(w: Callable[[str], object], ns: str, a: p.Address) -> None:
    """The inside of an EPP addr element (street lines, city, sp, pc, cc) in namespace `ns`."""
    for street in a.street:
        w(f"<{ns}:street>{_x(street)}</{ns}:street>\n")
    w(f"<{ns}:city>{_x(a.city or '')}</{ns}:city>\n")
    if a.state:
        w(f"<{ns}:sp>{_x(a.state)}</{ns}:sp>\n")
    if a.postal_code:
        w(f"<{ns}:pc>{_x(a.postal_code)}</{ns}:pc>\n")
    w(f"<{ns}:cc>{a.country}</{ns}:cc>\n")


def _xml_registrar(w: Callable[[str], object], r: p.RegistrarRecord) -> None:
    w(f"<rdeRegistrar:registrar>\n<rdeRegistrar:id>{r.client_id}</rdeRegistrar:id>\n")
    w(f"<rdeRegistrar:name>{_x(r.name)}</rdeRegistrar:name>\n")
    w(f"<rdeRegistrar:gurid>{r.gurid}</rdeRegistrar:gurid>\n")
    w(f"<rdeRegistrar:status>{r.status}</rdeRegistrar:status>\n")
    if r.address is not None:
        a = r.address
        w('<rdeRegistrar:postalInfo type="int">\n<rdeRegistrar:addr>\n')
        _xml_address(w, "rdeRegistrar", a)
        w("</rdeRegistrar:addr>\n</rdeRegistrar:postalInfo>\n")
    if r.voice is not None:
        w(f"<rdeRegistrar:voice>{r.voice.number}</rdeRegistrar:voice>\n")
    if r.fax is not None:
        w(f"<rdeRegistrar:fax>{r.fax.number}</rdeRegistrar:fax>\n")
    w(f"<rdeRegistrar:email>{_x(r.email or '')}</rdeRegistrar:email>\n")
    w(f"<rdeRegistrar:url>{_x(r.url or '')}</rdeRegistrar:url>\n")
    w("<rdeRegistrar:whoisInfo>\n")
    w(f"<rdeRegistrar:name>{_x(r.whois_server or '')}</rdeRegistrar:name>\n")
    w(f"<rdeRegistrar:url>{_x(r.whois_url or '')}</rdeRegistrar:url>\n")
    w("</rdeRegistrar:whoisInfo>\n")
    if r.created is not None:
        w(f"<rdeRegistrar:crDate>{_stamp(r.created)}</rdeRegistrar:crDate>\n")
    if r.updated is not None:
        w(f"<rdeRegistrar:upDate>{_stamp(r.updated)}</rdeRegistrar:upDate>\n")
    w("</rdeRegistrar:registrar>\n")


def _xml_registrar_facts(w: Callable[[str], object], f: p.RegistrarFacts) -> None:
    w(f"<rdapd:registrarFacts>\n<rdapd:id>{f.client_id}</rdapd:id>\n")
    w(f"<rdapd:rdapBaseUrl>{_x(f.rdap_base_url or '')}</rdapd:rdapBaseUrl>\n")
    w(f"<rdapd:abuseContact>\n<rdapd:name>{_x(f.abuse_name or '')}</rdapd:name>\n")
    w(f"<rdapd:email>{_x(f.abuse_email or '')}</rdapd:email>\n")
    w(f"<rdapd:voice>{f.abuse_voice}</rdapd:voice>\n")
    w("</rdapd:abuseContact>\n</rdapd:registrarFacts>\n")


def _xml_idn_table(w: Callable[[str], object], t: p.IdnTableRecord) -> None:
    w(f'<rdeIDN:idnTableRef id="{t.table_id}">\n<rdeIDN:url>{_x(t.url or "")}</rdeIDN:url>\n')
    w(f"<rdeIDN:urlPolicy>{_x(t.url_policy or '')}</rdeIDN:urlPolicy>\n")
    w("</rdeIDN:idnTableRef>\n")


def _xml_contact(w: Callable[[str], object], c: p.ContactRecord) -> None:
    w(f"<rdeContact:contact>\n<rdeContact:id>{c.handle}</rdeContact:id>\n")
    w(f"<rdeContact:roid>{c.roid}</rdeContact:roid>\n")
    for status in c.statuses:
        w(f'<rdeContact:status s="{status}"/>\n')
    for info in c.postal_infos:
        a = info.address
        w(f'<rdeContact:postalInfo type="{info.type}">\n')
        w(f"<contact:name>{_x(info.name or '')}</contact:name>\n")
        if info.org:
            w(f"<contact:org>{_x(info.org)}</contact:org>\n")
        w("<contact:addr>\n")
        _xml_address(w, "contact", a)
        w("</contact:addr>\n</rdeContact:postalInfo>\n")
    if c.voice is not None:
        ext = f' x="{c.voice.ext}"' if c.voice.ext else ""
        w(f"<rdeContact:voice{ext}>{c.voice.number}</rdeContact:voice>\n")
    if c.fax is not None:
        ext = f' x="{c.fax.ext}"' if c.fax.ext else ""
        w(f"<rdeContact:fax{ext}>{c.fax.number}</rdeContact:fax>\n")
    w(f"<rdeContact:email>{_x(c.email or '')}</rdeContact:email>\n")
    w(f"<rdeContact:clID>{c.clid}</rdeContact:clID>\n")
    w(f"<rdeContact:crRr>{c.created_by}</rdeContact:crRr>\n")
    if c.created is not None:
        w(f"<rdeContact:crDate>{_stamp(c.created)}</rdeContact:crDate>\n")
    if c.updated is not None:
        w(f"<rdeContact:upRr>{c.updated_by}</rdeContact:upRr>\n")
        w(f"<rdeContact:upDate>{_stamp(c.updated)}</rdeContact:upDate>\n")
    if c.disclose is not None:
        w(f'<rdeContact:disclose flag="{1 if c.disclose["flag"] else 0}">\n')
        for element in c.disclose["elements"]:  # type: ignore[attr-defined]
            local, _, kind = str(element).partition("_")
            w(f'<contact:{local} type="{kind}"/>\n' if kind else f"<contact:{local}/>\n")
        w("</rdeContact:disclose>\n")
    w("</rdeContact:contact>\n")


def _xml_contact_facts(w: Callable[[str], object], f: p.ContactFacts) -> None:
    w(f"<rdapd:contactFacts>\n<rdapd:id>{f.handle}</rdapd:id>\n")
    w(f"<rdapd:personKind>{f.person_kind}</rdapd:personKind>\n")
    for consent in f.consents:
        at = f' at="{_stamp(consent.at)}"' if consent.at is not None else ""
        w(f'<rdapd:consent element="{consent.element}"{at}/>\n')
    if f.verified_at is not None:
        w(
            f'<rdapd:verification status="{f.verification_status}" '
            f'date="{_stamp(f.verified_at)}" method="{f.verification_method}"/>\n'
        )
    else:
        w(f'<rdapd:verification status="{f.verification_status}"/>\n')
    if f.community_id is not None and f.eligibility_verified_at is not None:
        w(
            f'<rdapd:eligibility communityId="{f.community_id}" '
            f'verified="{_stamp(f.eligibility_verified_at)}" group="{f.registrant_group}"/>\n'
        )
    w("</rdapd:contactFacts>\n")


def _xml_host(w: Callable[[str], object], h: p.HostRecord) -> None:
    w(f"<rdeHost:host>\n<rdeHost:name>{h.name}</rdeHost:name>\n")
    w(f"<rdeHost:roid>{h.roid}</rdeHost:roid>\n")
    for status in h.statuses:
        w(f'<rdeHost:status s="{status}"/>\n')
    for address in h.addresses:
        w(f'<rdeHost:addr ip="{address.version}">{address.address}</rdeHost:addr>\n')
    w(f"<rdeHost:clID>{h.clid}</rdeHost:clID>\n")
    w(f"<rdeHost:crRr>{h.created_by}</rdeHost:crRr>\n")
    if h.created is not None:
        w(f"<rdeHost:crDate>{_stamp(h.created)}</rdeHost:crDate>\n")
    w("</rdeHost:host>\n")


def _xml_domain(w: Callable[[str], object], item: _Domain) -> None:
    d = item.record
    w(f"<rdeDomain:domain>\n<rdeDomain:name>{d.name}</rdeDomain:name>\n")
    w(f"<rdeDomain:roid>{d.roid}</rdeDomain:roid>\n")
    if d.idn_table:
        w(f"<rdeDomain:uName>{d.unicode_name}</rdeDomain:uName>\n")
        w(f"<rdeDomain:idnTableId>{d.idn_table}</rdeDomain:idnTableId>\n")
    if d.original_name:
        w(f"<rdeDomain:originalName>{d.original_name}</rdeDomain:originalName>\n")
    epp = len(d.statuses) - item.rgp
    for status in d.statuses[:epp]:
        w(f'<rdeDomain:status s="{status}"/>\n')
    for status in d.statuses[epp:]:
        w(f'<rdeDomain:rgpStatus s="{status}"/>\n')
    if d.registrant is not None:
        w(f"<rdeDomain:registrant>{d.registrant}</rdeDomain:registrant>\n")
    for kind, handle in d.contacts:
        w(f'<rdeDomain:contact type="{kind}">{handle}</rdeDomain:contact>\n')
    if d.host_objects:
        w("<rdeDomain:ns>\n")
        for server in d.host_objects:
            w(f"<domain:hostObj>{server}</domain:hostObj>\n")
        w("</rdeDomain:ns>\n")
    w(f"<rdeDomain:clID>{d.clid}</rdeDomain:clID>\n")
    w(f"<rdeDomain:crRr>{d.created_by}</rdeDomain:crRr>\n")
    if d.created is not None:
        w(f"<rdeDomain:crDate>{_stamp(d.created)}</rdeDomain:crDate>\n")
    if d.expires is not None:
        w(f"<rdeDomain:exDate>{_stamp(d.expires)}</rdeDomain:exDate>\n")
    if d.updated is not None:
        w(f"<rdeDomain:upRr>{d.updated_by}</rdeDomain:upRr>\n")
        w(f"<rdeDomain:upDate>{_stamp(d.updated)}</rdeDomain:upDate>\n")
    if d.ds_data:
        w("<rdeDomain:secDNS>\n")
        if d.max_sig_life is not None:
            w(f"<secDNS:maxSigLife>{d.max_sig_life}</secDNS:maxSigLife>\n")
        for ds in d.ds_data:
            w(
                f"<secDNS:dsData>\n<secDNS:keyTag>{ds.key_tag}</secDNS:keyTag>\n"
                f"<secDNS:alg>{ds.algorithm}</secDNS:alg>\n"
                f"<secDNS:digestType>{ds.digest_type}</secDNS:digestType>\n"
                f"<secDNS:digest>{ds.digest}</secDNS:digest>\n</secDNS:dsData>\n"
            )
        w("</rdeDomain:secDNS>\n")
    if d.transferred is not None:
        w(f"<rdeDomain:trDate>{_stamp(d.transferred)}</rdeDomain:trDate>\n")
    w("</rdeDomain:domain>\n")


def _xml_nndn(w: Callable[[str], object], n: p.NndnRecord) -> None:
    w(f"<rdeNNDN:NNDN>\n<rdeNNDN:aName>{n.name}</rdeNNDN:aName>\n")
    if n.idn_table:
        w(f"<rdeNNDN:uName>{n.unicode_name}</rdeNNDN:uName>\n")
        w(f"<rdeNNDN:idnTableId>{n.idn_table}</rdeNNDN:idnTableId>\n")
    if n.original_name:
        w(f"<rdeNNDN:originalName>{n.original_name}</rdeNNDN:originalName>\n")
    w(f"<rdeNNDN:nameState>{n.state}</rdeNNDN:nameState>\n")
    if n.created is not None:
        w(f"<rdeNNDN:crDate>{_stamp(n.created)}</rdeNNDN:crDate>\n")
    w("</rdeNNDN:NNDN>\n")


def _xml_protected_name(w: Callable[[str], object], n: p.ProtectedName) -> None:
    w(f"<rdapd:protectedName>\n<rdapd:aName>{n.name}</rdapd:aName>\n")
    w(f"<rdapd:reason>{_x(n.reason)}</rdapd:reason>\n</rdapd:protectedName>\n")


def _xml_header(w: Callable[[str], object], h: p.Header) -> None:
    w(f"<rdeHeader:header>\n<rdeHeader:tld>{h.tld}</rdeHeader:tld>\n")
    for count in h.counts:
        w(f'<rdeHeader:count uri="{count.uri}">{count.count}</rdeHeader:count>\n')
    w("</rdeHeader:header>\n")


_XML: Final[dict[type, Callable[[Callable[[str], object], Any], None]]] = {
    _Domain: _xml_domain,
    p.ContactRecord: _xml_contact,
    p.ContactFacts: _xml_contact_facts,
    p.HostRecord: _xml_host,
    p.RegistrarRecord: _xml_registrar,
    p.RegistrarFacts: _xml_registrar_facts,
    p.IdnTableRecord: _xml_idn_table,
    p.NndnRecord: _xml_nndn,
    p.ProtectedName: _xml_protected_name,
    p.Header: _xml_header,
}

NAMESPACES: Final = {
    "rde": p.RDE,
    "rdeHeader": p.HEADER,
    "rdeDomain": p.DOMAIN,
    "rdeHost": p.HOST,
    "rdeContact": p.CONTACT,
    "rdeRegistrar": p.REGISTRAR,
    "rdeIDN": p.IDN,
    "rdeNNDN": p.NNDN,
    "domain": p.EPP_DOMAIN,
    "contact": p.EPP_CONTACT,
    "secDNS": p.SECDNS,
    "rgp": p.RGP,
    "rdapd": p.RDAPD,
}


def deposit_id_for(watermark: dt.datetime, seed: int) -> str:
    """A deposit id matching RFC 8909's `\\w{1,13}`: the watermark date and the seed."""
    return f"{watermark:%Y%m%d}{seed % 100000:05d}"


def _registry(
    tld: str,
    *,
    size: int,
    seed: int,
    markers: bool,
    watermark: dt.datetime,
    progress: Progress | None,
) -> _Registry:
    tld = p.normalize_name(tld)[0]
    if "." in tld:
        raise ValueError(f"{tld!r} is not a single-label TLD")
    if size < 1:
        raise ValueError("size must be at least 1")
    return _Registry(
        tld, size=size, seed=seed, markers=markers, watermark=watermark, progress=progress
    )


def generate_records(
    *,
    tld: str = "post",
    size: int = 2000,
    seed: int = 1,
    markers: bool = False,
    watermark: dt.datetime = DEFAULT_WATERMARK,
    progress: Progress | None = None,
) -> Iterator[p.Record]:
    """The deposit `write_deposit` writes for the same arguments, as the records
    `parser.parse_deposit` reads from it, in the same order (line numbers 0): for loading the
    same registry without writing and parsing XML (benchmarks/pg_bulk_load.py)."""
    registry = _registry(
        tld, size=size, seed=seed, markers=markers, watermark=watermark, progress=progress
    )
    for item in registry.objects():
        yield item.record if isinstance(item, _Domain) else item


def write_deposit(
    out: IO[str],
    *,
    tld: str = "post",
    size: int = 2000,
    seed: int = 1,
    markers: bool = False,
    watermark: dt.datetime = DEFAULT_WATERMARK,
    progress: Progress | None = None,
) -> GeneratedDeposit:
    """Write a FULL deposit to a text stream; see `generate_deposit`. `progress(kind, done,
    total)` is told how far the registrants and the domains are, every PROGRESS_EVERY."""
    registry = _registry(
        tld, size=size, seed=seed, markers=markers, watermark=watermark, progress=progress
    )
    w = out.write
    objects = registry.objects()
    info = next(objects)
    assert isinstance(info, p.DepositInfo)
    w(f'<?xml version="1.0" encoding="UTF-8"?>\n<rde:deposit type="FULL" id="{info.deposit_id}"\n')
    w("".join(f'  xmlns:{prefix}="{uri}"\n' for prefix, uri in NAMESPACES.items()))
    w(">\n")
    w(f"<rde:watermark>{_stamp(info.watermark)}</rde:watermark>\n")
    w("<rde:rdeMenu>\n<rde:version>1.0</rde:version>\n")
    for uri in (*registry.counts, p.RDAPD):
        w(f"<rde:objURI>{uri}</rde:objURI>\n")
    w("</rde:rdeMenu>\n<rde:contents>\n")
    for item in objects:
        _XML[type(item)](w, item)
    w("</rde:contents>\n</rde:deposit>\n")
    return GeneratedDeposit(
        path=None,
        tld=registry.tld,
        size=size,
        seed=seed,
        deposit_id=info.deposit_id,
        watermark=watermark,
        counts=registry.counts,
        markers=tuple(registry.markers),
    )


def generate_deposit(
    path: str | Path,
    *,
    tld: str = "post",
    size: int = 2000,
    seed: int = 1,
    markers: bool = False,
    watermark: dt.datetime = DEFAULT_WATERMARK,
    progress: Progress | None = None,
) -> GeneratedDeposit:
    """Write a FULL deposit of `size` domains for `tld` to `path` (deterministic in all arguments).

    With `markers=True`, the natural persons' personal values carry unique markers, returned
    in `GeneratedDeposit.markers` (7 per natural person).
    """
    target = Path(path)
    with target.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        result = write_deposit(
            out,
            tld=tld,
            size=size,
            seed=seed,
            markers=markers,
            watermark=watermark,
            progress=progress,
        )
    return dataclasses.replace(result, path=target)


def iter_marker_values(deposit: GeneratedDeposit) -> Iterator[str]:
    """Every marker value of a generated deposit (convenience for leak tests)."""
    yield from deposit.marker_values
