"""Sends the digest by SMTP: one multipart/alternative message (plain text and HTML).

Settings come from [smtp] (host, port, starttls, user, sender, recipients); the password only
from the environment (DLRADAR_SMTP_PASSWORD). Port 465 means implicit TLS; otherwise STARTTLS is
used when `starttls` is true. Every failure becomes a MailError that names host:port and the
step that failed (connect, STARTTLS, login, send).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.config import Settings
from core.errors import DlradarError

TIMEOUT_SECONDS = 30.0
IMPLICIT_TLS_PORT = 465


class MailError(DlradarError):
    """The digest could not be emailed; the message names the server and the failed step."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    starttls: bool
    plaintext_login: bool
    user: str
    password: str | None
    sender: str
    recipients: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        user = str(settings.get("smtp", "user"))
        return cls(
            host=str(settings.get("smtp", "host")),
            port=int(settings.get("smtp", "port")),
            starttls=bool(settings.get("smtp", "starttls")),
            plaintext_login=bool(settings.get("smtp", "plaintext_login")),
            user=user,
            password=settings.secret("smtp", "password"),
            sender=str(settings.get("smtp", "sender")) or user,
            recipients=tuple(settings.get("smtp", "recipients")),
        )

    @property
    def encrypted(self) -> bool:
        """Whether the connection is TLS before any credential is sent."""
        return self.port == IMPLICIT_TLS_PORT or self.starttls

    @property
    def server(self) -> str:
        return f"SMTP server {self.host}:{self.port}"


def build_message(config: MailSettings, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: text/plain first, text/html preferred by mail readers."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = config.sender.rpartition("@")[2] or "dlradar.localhost"
    message["Message-ID"] = make_msgid("dlradar", domain=domain)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def _check(config: MailSettings) -> None:
    if not config.host:
        raise MailError(
            "cannot email the digest: [smtp] host is not set (dlradar.toml or DLRADAR_SMTP_HOST)"
        )
    if not config.recipients:
        raise MailError("cannot email the digest: [smtp] recipients is empty")
    if not config.sender:
        raise MailError("cannot email the digest: set [smtp] sender (or user)")
    if config.user and not config.password:
        raise MailError(
            f"cannot log in to {config.server} as {config.user}: DLRADAR_SMTP_PASSWORD is not set"
        )
    if config.user and not config.encrypted and not config.plaintext_login:
        raise MailError(
            f"refusing to send the password of {config.user} to {config.server} without TLS:"
            " set [smtp] starttls = true (or port 465); only for a trusted local relay,"
            " [smtp] plaintext_login = true"
        )


def send(config: MailSettings, subject: str, text: str, html: str) -> EmailMessage:
    """Send the digest; returns the message sent, raises MailError naming what failed."""
    _check(config)
    message = build_message(config, subject, text, html)
    step = "connect"
    try:
        if config.port == IMPLICIT_TLS_PORT:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
        with client:
            if config.starttls and config.port != IMPLICIT_TLS_PORT:
                step = "STARTTLS"
                client.starttls(context=ssl.create_default_context())
            if config.user:
                step = f"login as {config.user}"
                client.login(config.user, config.password or "")
            step = "send"
            client.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        # Without credentials, a relay that offers no TLS may be used as it is; with them, the
        # hint would be to send the password in clear, which is the user's call, not ours.
        hint = "; set [smtp] starttls = false" if step == "STARTTLS" and not config.user else ""
        raise MailError(f"{config.server}: {step} is not supported by the server{hint}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{config.server} refused the {step}: {_reply(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise MailError(f"{config.server} refused the recipients {refused}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{config.server} refused the {step}: {_reply(exc)}") from exc
    except ConnectionRefusedError as exc:
        raise MailError(f"{config.server} refused the connection (is it running?)") from exc
    except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailError(f"{config.server}: {step} failed: {exc or type(exc).__name__}") from exc
    return message


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {' '.join(text.split())}"
