"""`--send`: the digest over SMTP to a real server on 127.0.0.1 (aiosmtpd), and clear errors when
the server is down or refuses, with the files written all the same."""

from __future__ import annotations

import email
import os
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner

from core.config import Settings, load_settings
from dashboard.digest.mail import MailError
from dashboard.digest.weekly import write_digest
from dlradar.cli import cli
from dlradar.database import open_db

WEEK = "2025-W35"  # an empty week: the mail path does not need any papers


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Login:
    """Accepts one user and password, and remembers what was tried."""

    def __init__(self, user: str, password: str) -> None:
        self.expected = (user.encode(), password.encode())
        self.tried: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.tried.append((data.login, data.password))
        # handled=False: aiosmtpd answers "535 ... credentials invalid" itself.
        return AuthResult(success=(data.login, data.password) == self.expected, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DLRADAR_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def db(workdir: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(workdir / "dlradar.db")
    yield database
    database.conn.close()


def smtp_settings(port: int, **extra: Any) -> Settings:
    settings = load_settings()
    values = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "dlradar@example.org",
        "recipients": ["reader@example.org", "second@example.org"],
        **extra,
    }
    for key, value in values.items():
        settings.override("smtp", key, value)
    return settings


@pytest.fixture
def server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _parts(message: Message) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode(part.get_content_charset() or "ascii")
    return parts


def test_send_multipart_digest_to_a_local_server(
    db: sqlite_utils.Database, server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = server
    settings = smtp_settings(controller.port)
    result = write_digest(db, settings, week=WEEK, send=True)
    assert result.sent_to == ["reader@example.org", "second@example.org"]
    assert "emailed to reader@example.org, second@example.org" in str(result)

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "dlradar@example.org"
    assert envelope.rcpt_tos == ["reader@example.org", "second@example.org"]
    message = email.message_from_bytes(envelope.original_content or b"")
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "dlradar digest 2025-W35: 0 papers, 0 featured"
    assert message["From"] == "dlradar@example.org"
    assert message["To"] == "reader@example.org, second@example.org"
    assert message["Date"] and message["Message-ID"].endswith("@example.org>")
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    assert "NOTHING NEW THIS WEEK" in parts["text/plain"] and "<" not in parts["text/plain"][:40]
    html_file = Path("data/digests") / f"{WEEK}.html"
    assert parts["text/html"].replace("\r\n", "\n") == html_file.read_text(encoding="utf-8")

    # Sent once: the same week with --send again does not email twice; --force does.
    again = write_digest(db, settings, week=WEEK, send=True)
    assert again.status == "unchanged" and "already emailed" in str(again)
    assert len(inbox.envelopes) == 1
    write_digest(db, settings, week=WEEK, send=True, force=True)
    assert len(inbox.envelopes) == 2


def test_login_uses_the_password_from_the_environment(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, login = Inbox(), Login("digest-user", "s3cret from env")
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        settings = smtp_settings(controller.port, user="digest-user", plaintext_login=True)
        with pytest.raises(MailError, match="DLRADAR_SMTP_PASSWORD is not set"):
            write_digest(db, settings, week=WEEK, send=True)
        assert inbox.envelopes == [] and login.tried == []

        monkeypatch.setenv("DLRADAR_SMTP_PASSWORD", "wrong")
        with pytest.raises(MailError, match=rf"127\.0\.0\.1:{controller.port} refused the login"):
            write_digest(db, settings, week=WEEK, send=True)

        monkeypatch.setenv("DLRADAR_SMTP_PASSWORD", "s3cret from env")
        result = write_digest(db, settings, week=WEEK, send=True)
        assert result.sent_to and len(inbox.envelopes) == 1
        assert login.tried[-1] == (b"digest-user", b"s3cret from env")
    finally:
        controller.stop()


def test_starttls_not_offered_is_a_clear_error(
    db: sqlite_utils.Database, server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = server
    settings = smtp_settings(controller.port, starttls=True)
    with pytest.raises(MailError, match=r"STARTTLS is not supported.*starttls = false"):
        write_digest(db, settings, week=WEEK, send=True)
    assert inbox.envelopes == []


def test_server_down_gives_a_clear_error_and_files_are_written(workdir: Path) -> None:
    port = free_port()  # nothing listens there any more
    (workdir / "dlradar.toml").write_text(
        "[smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n'
        'sender = "dlradar@example.org"\nrecipients = ["reader@example.org"]\n',
        encoding="utf-8",
    )
    open_db(workdir / "dlradar.db").conn.close()
    result = CliRunner().invoke(cli, ["digest", "--week", WEEK, "--send", "--db", "dlradar.db"])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("Error: SMTP server 127.0.0.1:")
    assert f"127.0.0.1:{port} refused the connection" in message
    assert "the digest files are written in data/digests" in message
    for ext in ("md", "json", "html"):
        assert (workdir / "data" / "digests" / f"{WEEK}.{ext}").is_file()
    assert (workdir / "data" / "digests" / "feed.atom").is_file()
    # Recorded but not sent: the next --send (once the server is up) still emails it.
    db = open_db(workdir / "dlradar.db")
    assert db.execute("SELECT sent FROM digests WHERE week = ?", [WEEK]).fetchone() == (None,)
    db.conn.close()


def test_missing_smtp_host_is_named(db: sqlite_utils.Database) -> None:
    with pytest.raises(MailError, match=r"\[smtp\] host is not set"):
        write_digest(db, load_settings(), week=WEEK, send=True)
    assert (Path("data/digests") / f"{WEEK}.md").is_file()


def test_the_password_never_goes_over_plain_smtp_without_an_opt_in(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, login = Inbox(), Login("digest-user", "s3cret")
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=login, auth_require_tls=False
    )
    controller.start()
    try:
        monkeypatch.setenv("DLRADAR_SMTP_PASSWORD", "s3cret")
        settings = smtp_settings(controller.port, user="digest-user", starttls=False)
        with pytest.raises(MailError, match=r"refusing to send the password .* without TLS"):
            write_digest(db, settings, week=WEEK, send=True)
        assert login.tried == [] and inbox.envelopes == []  # nothing reached the server
        # A server without STARTTLS: the error does not advise sending the password in clear.
        settings = smtp_settings(controller.port, user="digest-user", starttls=True)
        with pytest.raises(MailError) as error:
            write_digest(db, settings, week=WEEK, send=True, force=True)
        assert "STARTTLS is not supported" in str(error.value)
        assert "starttls = false" not in str(error.value)
        assert login.tried == []
    finally:
        controller.stop()
