"""A local SMTP server for the mail conformance suite (test infrastructure).

Listens on a free loopback port, plain SMTP, and writes every message it accepts
to DIR as one JSON file (envelope, headers, decoded text and HTML parts), so a
test can check what a mailer delivered. AUTH PLAIN/LOGIN is offered (without TLS,
loopback only) and succeeds only for the user and password in the environment
variables SMTP_TEST_USER / SMTP_TEST_PASSWORD; unauthenticated mail is accepted
too. Recipients at reject.test answer 550, at busy.test 451.

Usage: smtp_server.py PORT_FILE DIR  (the port is written once the server listens).
"""

import asyncio
import email
import email.policy
import json
import os
import signal
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rsplit("@", 1)[-1].lower()
        if domain == "reject.test":
            return "550 5.1.1 no such mailbox here"
        if domain == "busy.test":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": session.auth_data if session.authenticated else None,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "content_type": msg.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        name = uuid.uuid4().hex
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.directory, name + ".json"))
        return "250 OK message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    want_user = os.environ.get("SMTP_TEST_USER", "")
    want_password = os.environ.get("SMTP_TEST_PASSWORD", "")
    ok = (
        isinstance(auth_data, LoginPassword)
        and want_user != ""
        and auth_data.login.decode() == want_user
        and auth_data.password.decode() == want_password
    )
    # handled=False: aiosmtpd answers 235 or 535 itself.
    return AuthResult(success=ok, handled=False, auth_data=want_user if ok else None)


async def serve(port_file: str, directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    handler = Recorder(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="skiff-test-smtp",
            authenticator=authenticator,
            auth_required=False,
            auth_require_tls=False,
        ),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, port_file)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    await stop
    server.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
