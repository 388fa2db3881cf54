"""`rdapd client create | list | revoke`: one readable line and a non-zero exit on bad input."""

from __future__ import annotations

import json

import pytest

from rdap.oauth import service


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def test_create_list_revoke(runner, registrar, db):
    result = runner.invoke(
        args=[
            "client",
            "create",
            "--role",
            "registrar",
            "--name",
            "Registrar A tools",
            "--registrar",
            "9999",
            "--purpose",
            "domainNameControl",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["client_id"].startswith("rdapd-")
    assert len(created["client_secret"]) >= 32
    listed = json.loads(runner.invoke(args=["client", "list", "--json"]).output)
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert listed[0]["registrar_id"] == registrar.id
    assert listed[0]["allowed_purposes"] == ["domainNameControl"]
    assert "client_secret" not in listed[0]
    assert created["client_secret"] not in runner.invoke(args=["client", "list"]).output
    with db.read_scope() as session:
        (row,) = service.list_clients(session)
        assert created["client_secret"] not in row.secret_hash
        assert service.verify_secret(created["client_secret"], row.secret_hash)
    result = runner.invoke(args=["client", "revoke", created["client_id"]])
    assert result.exit_code == 0
    listed = json.loads(runner.invoke(args=["client", "list", "--json"]).output)
    assert listed[0]["status"] == "revoked"


def test_plain_output_shows_the_secret_once(runner):
    result = runner.invoke(args=["client", "create", "--role", "staff", "--name", "Reviewer X"])
    assert result.exit_code == 0
    assert "client_secret:" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "registrar", "--name", "R"], "needs --registrar"),
        (
            ["--role", "registrar", "--name", "R", "--registrar", "4242"],
            "no registrar with IANA ID",
        ),
        (["--role", "staff", "--name", "R", "--purpose", "curiosity"], "unknown purpose"),
        (["--role", "staff", "--name", "R", "--registrar", "9999"], "only to role registrar"),
        (["--role", "requester", "--name", "R"], "needs --accreditation"),
        (["--role", "law-enforcement", "--name", "R"], "needs --accreditation"),
        (["--role", "requester", "--name", "R", "--accreditation", "acc-x"], "no accreditation"),
        (["--role", "registrar", "--name", "R", "--org", "X"], "do not apply to role registrar"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runner, registrar, args, message):
    result = runner.invoke(args=["client", "create", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_role_and_unknown_client(runner):
    result = runner.invoke(args=["client", "create", "--role", "root", "--name", "x"])
    assert result.exit_code == 2
    result = runner.invoke(args=["client", "revoke", "rdapd-nope"])
    assert result.exit_code == 1
    assert "no client" in result.stderr
