"""Notifications: transitions fill the outbox (no registration data), delivery over SMTP to a
fake server on 127.0.0.1, mail down → retried later and nothing lost, refusals, the command."""

from __future__ import annotations

import datetime as dt
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.disclosure import notify
from rdap.models import Notification
from rdap.settings import Settings, SettingsError
from tests import factories
from tests.disclosure_fixtures import SUBMISSION, Accredit, Api, Caller, FrozenClock, MakeCaller

RATIONALE = "The registrant's phone number is not needed to reach the operator."


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
    Recipients whose address starts with "refuse" get a 550."""

    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        self._reply("220 test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self._reply("250 test")
            elif verb in {"MAIL", "RSET", "NOOP"}:
                recipients = [] if verb != "NOOP" else recipients
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address.startswith("refuse"):
                    self._reply("550 no such user")
                else:
                    recipients.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                data = []
                while (part := self.rfile.readline()) not in {b".\r\n", b""}:
                    data.append(part.decode())
                server.received.append((recipients, "".join(data)))
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Smtp)
        self.received: list[tuple[list[str], str]] = []


@pytest.fixture
def smtp() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (mail down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sender(port: int) -> notify.SmtpSender:
    return notify.SmtpSender(
        host="127.0.0.1", port=port, sender="rdapd@registry.example", security="none", timeout=5
    )


@pytest.fixture
def people(db: Database, accredit: Accredit, caller: MakeCaller) -> dict[str, Caller]:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
    return {
        "requester": caller(accreditation=accredit("CERT A"), email="requests@cert-a.example"),
        "quiet": caller(accreditation=accredit("CERT Q")),  # no address: nothing to send
        "staff": caller("staff", org="Registry", email="review@registry.example"),
        "other_staff": caller("staff", email="duty@registry.example"),
        # A reviewer of the requester's own organisation cannot decide: not told either.
        "conflicted": caller("staff", org="CERT A", email="insider@cert-a.example"),
        "silent_staff": caller("staff"),
    }


def _outbox(db: Database) -> list[Notification]:
    with db.read_scope() as session:
        rows = list(session.scalars(select(Notification).order_by(Notification.id)))
        session.expunge_all()  # read after the scope: plain values
        return rows


def _run_workflow(api: Api, people: dict[str, Caller], clock: FrozenClock) -> str:
    """Submit, ask for information, answer, approve in part: the request id."""
    requester, staff = people["requester"], people["staff"]
    request_id: str = api.submit(requester).get_json()["id"]
    api.submit(people["quiet"])
    clock.advance(hours=1)
    asked = api.decide(request_id, staff, action="request_information", rationale="Which page?")
    assert asked.status_code == 200, asked.get_json()
    clock.advance(hours=1)
    answered = api.post(
        f"/disclosure/requests/{request_id}/information", requester, {"rationale": RATIONALE * 2}
    )
    assert answered.status_code == 200, answered.get_json()
    decided = api.decide(
        request_id,
        staff,
        action="approve",
        valid_days=7,
        data_elements=["registrant.name", "registrant.email"],
        rationale=RATIONALE,
    )
    assert decided.status_code == 200, decided.get_json()
    return request_id


def test_transitions_fill_the_outbox_with_no_registration_data(
    api: Api, db: Database, people: dict[str, Caller], clock: FrozenClock
) -> None:
    request_id = _run_workflow(api, people, clock)
    messages = _outbox(db)
    reviewers = ["duty@registry.example", "review@registry.example"]
    mine = [m for m in messages if m.request_id == request_id]
    events = list(dict.fromkeys((m.event, m.audience) for m in mine))
    assert events == [
        ("submit", "requester"),
        ("submit", "reviewer"),
        ("request_information", "requester"),
        ("provide_information", "reviewer"),
        ("approve_partially", "requester"),
    ]
    for event, audience in events:
        to = sorted(m.recipient for m in mine if (m.event, m.audience) == (event, audience))
        assert to == (["requests@cert-a.example"] if audience == "requester" else reviewers)
    # The quiet requester's submission reached the reviewers only: CERT A's reviewer too.
    quiet = [m for m in messages if m.request_id != request_id]
    assert {(m.audience, m.recipient) for m in quiet} == {
        ("reviewer", r) for r in [*reviewers, "insider@cert-a.example"]
    }
    assert all(m.status == notify.PENDING and m.attempts == 0 for m in messages)
    for message in messages:
        text = message.subject + message.body
        assert message.request_id in text
        assert "target.post" not in text  # not even the domain
        for secret in (
            "Registrant Person",
            "@mail.example",
            RATIONALE,
            SUBMISSION["rationale"],
            SUBMISSION["legal_basis"],
            "Which page?",
        ):
            assert secret not in text


def test_mail_down_is_retried_later_and_nothing_is_lost(
    api: Api, db: Database, people: dict[str, Caller], clock: FrozenClock, smtp: _Server
) -> None:
    request_id = _run_workflow(api, people, clock)
    expected = [(m.id, m.recipient) for m in _outbox(db)]
    assert len(expected) == 10

    down = notify.deliver(db, _sender(_closed_port()), clock=clock)
    assert (down.sent, down.deferred, down.failed, down.waiting) == (0, 1, 0, 10)
    first = _outbox(db)[0]
    assert first.status == notify.PENDING
    assert first.attempts == 1
    assert first.next_attempt_at == clock.now + dt.timedelta(minutes=1)
    assert "unreachable" in (first.last_error or "")
    # Mail is back, but the failed message waits for its next attempt; the rest go now.
    partly = notify.deliver(db, _sender(smtp.server_address[1]), clock=clock)
    assert (partly.sent, partly.deferred, partly.waiting) == (9, 0, 1)
    clock.advance(minutes=1)
    rest = notify.deliver(db, _sender(smtp.server_address[1]), clock=clock)
    assert (rest.sent, rest.waiting) == (1, 0)
    assert notify.deliver(db, _sender(smtp.server_address[1]), clock=clock).sent == 0

    # Every message arrived exactly once, to its recipient, as written.
    got = sorted((recipients[0], data) for recipients, data in smtp.received)
    assert sorted(r for r, _ in got) == sorted(r for _, r in expected)
    assert all(m.status == notify.SENT and m.sent_at is not None for m in _outbox(db))
    assert _outbox(db)[0].attempts == 2
    assert any(f"Disclosure request {request_id}: partially approved" in d for _, d in got)
    assert all("From: rdapd@registry.example" in d for _, d in got)


def test_backoff_grows_to_its_ceiling(
    api: Api, db: Database, people: dict[str, Caller], clock: FrozenClock
) -> None:
    api.submit(people["requester"])
    down = _sender(_closed_port())
    waits: list[dt.timedelta] = []
    while len(waits) < 4:  # one message is tried a pass: follow the first one's attempts
        notify.deliver(db, down, clock=clock, max_backoff=dt.timedelta(minutes=5))
        outbox = _outbox(db)
        if outbox[0].attempts > len(waits):
            waits.append(outbox[0].next_attempt_at - clock.now)
        clock.now = min(m.next_attempt_at for m in outbox)
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 5)]
    assert _outbox(db)[0].status == notify.PENDING  # never given up while mail is down


def test_a_refused_recipient_fails_for_good_and_the_others_go(
    api: Api,
    db: Database,
    people: dict[str, Caller],
    caller: MakeCaller,
    smtp: _Server,
    clock: FrozenClock,
) -> None:
    caller("staff", email="refused@registry.example")
    api.submit(people["requester"])
    result = notify.deliver(db, _sender(smtp.server_address[1]), clock=clock)
    assert (result.sent, result.failed, result.waiting) == (3, 1, 0)
    (refused,) = [m for m in _outbox(db) if m.recipient == "refused@registry.example"]
    assert refused.status == notify.FAILED
    assert "550" in (refused.last_error or "")


def test_a_claimed_message_is_not_sent_twice(
    api: Api, db: Database, people: dict[str, Caller], clock: FrozenClock, smtp: _Server
) -> None:
    api.submit(people["quiet"])  # three reviewer messages
    claimed = notify._claim(db, clock.now, set())  # another deliverer is sending this one
    assert claimed is not None
    result = notify.deliver(db, _sender(smtp.server_address[1]), clock=clock)
    assert (result.sent, result.waiting) == (2, 1)
    clock.advance(minutes=5)  # its claim ran out (that deliverer died): sent once, now
    assert notify.deliver(db, _sender(smtp.server_address[1]), clock=clock).sent == 1
    assert len(smtp.received) == 3


def test_the_notify_command_sweeps_then_delivers(
    app: Any,
    api: Api,
    db: Database,
    people: dict[str, Caller],
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    request_id = api.submit(people["requester"]).get_json()["id"]
    clock.advance(hours=73)  # past the standard SLA: the sweep flags it overdue
    caplog.set_level("INFO", logger="rdap.notify")
    result = app.test_cli_runner().invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent: 5; deferred: 0; failed: 0; waiting: 0"
    overdue = [m for m in _outbox(db) if m.event == "overdue"]
    assert {m.recipient for m in overdue} == {"duty@registry.example", "review@registry.example"}
    assert all(m.request_id == request_id and m.status == notify.SENT for m in overdue)
    assert f"Disclosure request {request_id}: overdue" in caplog.text  # the log sender


def test_sender_settings() -> None:
    assert isinstance(notify.sender_from_settings(Settings()), notify.LogSender)
    smtp = notify.sender_from_settings(
        Settings.from_env(
            {
                "RDAP_NOTIFY_SENDER": "smtp",
                "RDAP_SMTP_HOST": "mail.example",
                "RDAP_SMTP_PORT": "465",
                "RDAP_SMTP_SECURITY": "ssl",
                "RDAP_SMTP_PASSWORD": "hunter2",
                "RDAP_NOTIFY_FROM": "rdap@registry.example",
            }
        )
    )
    assert isinstance(smtp, notify.SmtpSender)
    assert (smtp.host, smtp.port, smtp.security) == ("mail.example", 465, "ssl")
    assert "hunter2" not in repr(smtp)
    for bad in (
        {"notify_sender": "pigeon"},
        {"notify_sender": "smtp", "smtp_security": "tls1"},
        {"notify_sender": "smtp", "notify_from": "Registry <a@b.example>\r\nBcc: x@y.example"},
    ):
        with pytest.raises(SettingsError):
            notify.sender_from_settings(Settings(**bad))


@pytest.mark.parametrize(
    "address", ["no-at-sign", "a@b", "a@b.example\r\nBcc: c@d.example", "x <a@b.example>", ""]
)
def test_notification_addresses_are_plain(
    db: Database, accredit: Accredit, caller: MakeCaller, address: str
) -> None:
    from rdap.disclosure.service import DisclosureError

    with pytest.raises(DisclosureError):
        caller(accreditation=accredit("CERT A"), email=address)
