"""A real SMTP server for the e-mail tests (aiosmtpd), on 127.0.0.1.

Usage: smtp_sink.py PORT DIR [--refuse] [--user USER --password PASSWORD]
                     [--starttls CERT KEY | --implicit-tls CERT KEY]

Saves every accepted message as DIR/<n>.eml with the envelope in DIR/<n>.rcpt.
With --refuse, every recipient is rejected with 550. With --user, clients must
authenticate (PLAIN or LOGIN; allowed without TLS, this is a loopback test peer).
With --starttls the server requires STARTTLS; with --implicit-tls it speaks TLS
from the first byte.
Prints "ready" once listening.
"""

import argparse
import logging
import os
import signal
import ssl
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, refuse):
        self.directory = directory
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted"


def main():
    # Auth without TLS is what this loopback peer is for; keep its warnings quiet.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("dir")
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    a = p.parse_args()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
        return AuthResult(success=ok)

    kwargs = {}
    if a.user:
        kwargs = dict(authenticator=authenticate, auth_require_tls=False, auth_required=True)
    for pair, extra in ((a.starttls, "starttls"), (a.implicit_tls, "implicit")):
        if pair:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*pair)
            if extra == "starttls":
                kwargs.update(tls_context=ctx, require_starttls=True)
            else:
                kwargs.update(ssl_context=ctx)
    controller = Controller(Sink(a.dir, a.refuse), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


main()
