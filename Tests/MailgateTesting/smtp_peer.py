#!/usr/bin/env python3
"""A scriptable SMTP server for tests, built on aiosmtpd: real ESMTP parsing, with
replies chosen per phase and per recipient, delays, dropped connections, STARTTLS,
implicit TLS and AUTH.

Usage:
    smtp_peer.py CONFIG.json [--host 127.0.0.1] [--port 0] [--log FILE]
                 [--exit-with-stdin]

Once it listens it prints one line, "PORT <n>", on stdout. It stops on SIGTERM or
SIGINT, and with --exit-with-stdin also when its standard input reaches end of file
(so it never outlives the test process that piped it).

CONFIG.json is an object; every key is optional:

    "hostname":  "peer.test"           name in the greeting and the EHLO reply
    "greeting":  "421 4.3.2 busy"      a greeting other than 220: sent, then closed
    "greeting_delay": 2.5              seconds before the greeting
    "ehlo":      "502 5.5.2 no EHLO"   refuse EHLO with this reply (HELO still works)
    "helo":      "550 go away"         refuse HELO with this reply
    "pipelining": true                 announce PIPELINING (default false)
    "size":      10485760              SIZE limit announced and enforced (0: none)
    "eightbitmime": true               announce 8BITMIME (default true)
    "smtputf8":  true                  announce and accept SMTPUTF8 (default true)
    "ehlo_extra": ["AUTH=LOGIN"]       extra EHLO lines, verbatim
    "cert", "key": PEM paths           enable TLS
    "starttls":  true                  offer STARTTLS (default true when cert is set)
    "implicit_tls": true               TLS from the first byte (smtps)
    "require_starttls": true           530 to mail commands before STARTTLS
    "starttls_reply": "554 5.7.3 no"   refuse STARTTLS with this reply (announce it
                                       with "ehlo_extra": ["STARTTLS"])
    "starttls_inject": true            send a second reply in the same packet as the
                                       220 to STARTTLS, as an attacker would
    "auth": {"users": {"name": "password"}, "mechanisms": ["PLAIN", "LOGIN"],
             "required": true, "require_tls": false}
    "mail":      "451 4.3.0 try later" reply to MAIL FROM (default 250 OK)
    "rcpt":      {"bob@x.test": "550 5.1.1 no such user"}   reply per recipient
    "rcpt_default": "250 2.1.5 OK"     reply to other recipients
    "data":      "554 5.5.1 no"        reply to the DATA command itself (default 354)
    "data_end":  "552 5.3.4 too big"   reply to the end of the content
    "drop":      "after_354" | "before_data_reply"
                 close the connection right after 354, or after the content arrived
                 (and was recorded) instead of replying to it
    "delays":    {"MAIL": 1, "RCPT": 1, "DATA_END": 3, "EHLO": 1}  seconds before replying

The log (--log) gets one JSON object per line:
    {"event": "connect", "session": 1}
    {"event": "command", "session": 1, "verb": "MAIL", "arg": "FROM:<a@x.test> SIZE=12",
     "tls": false, "unread": 40}      unread: bytes of later commands already received
                                       when this one was read (pipelining)
    {"event": "message", "session": 1, "mail_from": "a@x.test", "mail_options": [...],
     "rcpt_tos": ["bob@x.test"], "data": "<base64 of the content, dot-unstuffed>",
     "tls": true, "auth": "name" or null}
"""

import argparse
import asyncio
import base64
import json
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.sessions = 0

    def write(self, **record):
        if self.file:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()


class ScriptedHandler:
    """aiosmtpd hooks: each returns the scripted reply for its phase."""

    def __init__(self, config, recorder):
        self.config = config
        self.recorder = recorder

    async def delay(self, phase):
        seconds = self.config.get("delays", {}).get(phase, 0)
        if seconds:
            await asyncio.sleep(seconds)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self.delay("EHLO")
        session.host_name = hostname
        lines = [line for line in responses if not self._dropped_extension(line)]
        if self.config.get("pipelining", False):
            lines.insert(1, "250-PIPELINING")
        for extra in self.config.get("ehlo_extra", []):
            lines.insert(1, "250-" + extra)
        return lines

    def _dropped_extension(self, line):
        keyword = line[4:].split(" ")[0].upper()
        return keyword == "8BITMIME" and not self.config.get("eightbitmime", True)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self.delay("MAIL")
        reply = self.config.get("mail", "250 OK")
        if reply.startswith("2"):
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self.delay("RCPT")
        reply = self.config.get("rcpt", {}).get(address, self.config.get("rcpt_default", "250 OK"))
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        self.recorder.write(
            event="message",
            session=server.session_number,
            mail_from=envelope.mail_from,
            mail_options=envelope.mail_options,
            rcpt_tos=envelope.rcpt_tos,
            data=base64.b64encode(envelope.original_content).decode("ascii"),
            tls=server.is_encrypted(),
            auth=getattr(session, "auth_data", None),
        )
        if self.config.get("drop") == "before_data_reply":
            server.transport.close()
            await asyncio.sleep(3600)
        await self.delay("DATA_END")
        return self.config.get("data_end", "250 2.0.0 OK queued")


class ScriptedSMTP(SMTP):
    """aiosmtpd's server with scripted greeting, EHLO/HELO and DATA stages, and every
    command recorded."""

    def __init__(self, handler, config, recorder, **options):
        super().__init__(handler, **options)
        self.config = config
        self.recorder = recorder
        recorder.sessions += 1
        self.session_number = recorder.sessions
        for verb, method in list(self._smtp_methods.items()):
            self._smtp_methods[verb] = self._recorded(verb, method)

    def _recorded(self, verb, method):
        async def wrapper(arg):
            self.recorder.write(
                event="command", session=self.session_number, verb=verb, arg=arg,
                tls=self.is_encrypted(), unread=len(self._reader._buffer),
            )
            return await method(arg)
        return wrapper

    async def push(self, status):
        if self.config.get("starttls_inject") and status == "220 Ready to start TLS":
            # A man in the middle appending a reply to the 220 (CVE-2011-0411).
            status += "\r\n250 2.0.0 injected before TLS"
        await super().push(status)

    def is_encrypted(self):
        return self.transport is not None and self.transport.get_extra_info("ssl_object") is not None

    async def _handle_client(self):
        self.recorder.write(event="connect", session=self.session_number)
        if self.config.get("greeting_delay"):
            await asyncio.sleep(self.config["greeting_delay"])
        greeting = self.config.get("greeting")
        if greeting and not greeting.startswith("220"):
            await self.push(greeting)
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_EHLO(self, hostname):
        if self.config.get("ehlo"):
            await self.push(self.config["ehlo"])
            return
        await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname):
        if self.config.get("helo"):
            await self.push(self.config["helo"])
            return
        await super().smtp_HELO(hostname)

    async def smtp_STARTTLS(self, arg):
        if self.config.get("starttls_reply"):
            await self.push(self.config["starttls_reply"])
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg):
        if self.config.get("data") and self.envelope.rcpt_tos:
            await self.push(self.config["data"])
            return
        if self.config.get("drop") == "after_354" and self.envelope.rcpt_tos:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            self.transport.close()
            return
        await super().smtp_DATA(arg)


def make_authenticator(users):
    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            name = auth_data.login.decode("utf-8", "replace")
            if users.get(name) == auth_data.password.decode("utf-8", "replace"):
                return AuthResult(success=True, auth_data=name)
        return AuthResult(success=False, handled=False)
    return authenticate


def server_options(config, tls_context):
    auth = config.get("auth")
    options = {
        "hostname": config.get("hostname", "peer.test"),
        "data_size_limit": config.get("size", 33554432) or None,
        "enable_SMTPUTF8": config.get("smtputf8", True),
        "decode_data": False,
    }
    if tls_context is not None and config.get("starttls", True) and not config.get("implicit_tls"):
        options["tls_context"] = tls_context
        options["require_starttls"] = config.get("require_starttls", False)
    if auth:
        mechanisms = {m.upper() for m in auth.get("mechanisms", ["PLAIN", "LOGIN"])}
        options["authenticator"] = make_authenticator(auth.get("users", {}))
        options["auth_required"] = auth.get("required", False)
        options["auth_require_tls"] = auth.get("require_tls", False)
        options["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in mechanisms]
    else:
        options["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        options["auth_require_tls"] = True
    return options


async def serve(arguments, config):
    recorder = Recorder(arguments.log)
    tls_context = None
    if config.get("cert"):
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(config["cert"], config["key"])
    handler = ScriptedHandler(config, recorder)
    options = server_options(config, tls_context)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: ScriptedSMTP(handler, config, recorder, loop=loop, **options),
        host=arguments.host, port=arguments.port,
        ssl=tls_context if config.get("implicit_tls") else None,
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = loop.create_future()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, lambda: stop.done() or stop.set_result(None))
    if arguments.exit_with_stdin:
        loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or stop.done() or stop.set_result(None))
    await stop
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--exit-with-stdin", action="store_true")
    arguments = parser.parse_args()
    with open(arguments.config, encoding="utf-8") as file:
        config = json.load(file)
    asyncio.run(serve(arguments, config))


if __name__ == "__main__":
    main()
