#!/usr/bin/env python3
"""A scriptable HTTP receiver for webhook tests: answers every request from a JSON
script and records each one (headers and body) as a JSON line.

Usage:
    webhook_receiver.py SCRIPT.json --log REQUESTS.jsonl [--host 127.0.0.1]
                        [--port 0] [--secret whsec_...] [--exit-with-stdin]

Once it listens it prints one line, "PORT <n>", on stdout. It stops on SIGTERM or
SIGINT, and with --exit-with-stdin also when its standard input reaches end of
file (so it never outlives the test process that piped it). It speaks HTTP/1.1
with keep-alive, one thread per connection.

The script is a JSON object, read again whenever the file changes (replace it
atomically):

    {"sequence": [RESPONSE, ...], "default": RESPONSE}

Requests take the responses of "sequence" in arrival order, one each; once it is
used up, every request gets "default" (200 with an empty body when absent).
A RESPONSE is an object with any of:

    "status": 200            the status code
    "delay": 0.5             seconds to wait before answering
    "body": "text"           the response body
    "body_size": 1000000     a body of this many "x" bytes instead (sent in chunks;
                             a client that hangs up early is fine)
    "headers": {"Location": "http://..."}

--log appends one line per request, written when its body has been read (before
any delay), so a test sees requests whose answers never arrive:

    {"method": "POST", "path": "/hook", "headers": {"webhook-id": "evt_1", ...},
     "body": "<text>", "signature": "valid"}

Header names are lower-cased. With --secret, "signature" says what the
standardwebhooks package (PyPI) thinks: "valid", or "invalid: <reason>".
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    """The response script, reloaded when the file changes; hands out responses in order."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.stamp = None
        self.sequence = []
        self.default = {}

    def next_response(self):
        with self.lock:
            self._reload()
            if self.sequence:
                return self.sequence.pop(0)
            return self.default

    def _reload(self):
        stat = os.stat(self.path)
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self.stamp:
            return
        self.stamp = stamp
        with open(self.path, encoding="utf-8") as handle:
            script = json.load(handle)
        self.sequence = list(script.get("sequence", []))
        self.default = script.get("default", {})


class Recorder:
    """Appends one JSON line per request to the log file."""

    def __init__(self, path, secret):
        self.path = path
        self.lock = threading.Lock()
        self.webhook = None
        if secret:
            from standardwebhooks.webhooks import Webhook

            self.webhook = Webhook(secret)

    def record(self, method, path, headers, body):
        entry = {"method": method, "path": path, "headers": headers, "body": body.decode("utf-8", "replace")}
        if self.webhook is not None:
            try:
                self.webhook.verify(body, headers)
                entry["signature"] = "valid"
            except Exception as error:  # the package raises several error types
                entry["signature"] = f"invalid: {error}"
        line = json.dumps(entry) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"
    sys_version = ""

    def do_POST(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.recorder.record(self.command, self.path, headers, body)
        response = self.server.script.next_response()
        delay = float(response.get("delay", 0))
        if delay > 0:
            threading.Event().wait(delay)
        self.answer(response)

    def answer(self, response):
        status = int(response.get("status", 200))
        size = response.get("body_size")
        payload = b"" if size is not None else response.get("body", "").encode("utf-8")
        length = int(size) if size is not None else len(payload)
        try:
            self.send_response(status)
            for name, value in response.get("headers", {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if size is None:
                self.wfile.write(payload)
            else:
                chunk = b"x" * 65536
                remaining = length
                while remaining > 0:
                    part = chunk[: min(remaining, len(chunk))]
                    self.wfile.write(part)
                    remaining -= len(part)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass


def main():
    parser = argparse.ArgumentParser(description="scriptable webhook receiver for tests")
    parser.add_argument("script")
    parser.add_argument("--log", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret")
    parser.add_argument("--exit-with-stdin", action="store_true")
    options = parser.parse_args()

    if ":" in options.host:
        Server.address_family = __import__("socket").AF_INET6
    server = Server((options.host, options.port), Handler)
    server.script = Script(options.script)
    server.recorder = Recorder(options.log, options.secret)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if options.exit_with_stdin:

        def watch_stdin():
            # os.read, not sys.stdin: a daemon thread blocked inside the buffered
            # reader holds its lock, and interpreter shutdown then waits a second for it.
            while os.read(sys.stdin.fileno(), 4096):
                pass
            stop()

        threading.Thread(target=watch_stdin, daemon=True).start()

    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
