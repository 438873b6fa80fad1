"""Process-level test harness: runs the built `mailgate` binary and real peers
(the scriptable SMTP peer, DNS server and webhook receiver in Tests/MailgateTesting,
and private Postfix instances), all on loopback, and talks to them as a user would.
"""

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / "Tests" / "MailgateTesting"
BINARY = os.environ.get("MAILGATE_BINARY") or str(REPO / ".build" / "debug" / "mailgate")


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls `predicate` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Gateway:
    """One `mailgate serve` process with its own data directory and port."""

    FINAL = {"delivered", "bounced", "failed", "canceled"}

    def __init__(self, workdir, env=None, api_key=None, port=None, name="gateway"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.api_key = api_key
        self.log_path = self.workdir / f"{name}.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MAILGATE_LISTEN": f"127.0.0.1:{self.port}",
            "MAILGATE_DATA_DIR": str(self.workdir / "data"),
            "MAILGATE_HELO_NAME": "gateway.test",
            "MAILGATE_LOG_LEVEL": "debug",
        }
        if api_key:
            self.env["MAILGATE_API_KEYS"] = api_key
        self.env.update(env or {})
        self.process = None

    # -- lifecycle

    def start(self, wait=True, extra_args=()):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [BINARY, "serve", *extra_args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        log.close()
        if wait:
            wait_until(self._healthy, timeout=30, what=f"gateway on port {self.port} (log: {self.log_text()[-2000:]})")
        return self

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gateway exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
        try:
            return self.request("GET", "/healthz", timeout=1).status == 200
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=40):
        """Sends `sig` and waits; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"gateway did not exit within {timeout}s after {sig}")

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- HTTP

    def request(self, method, path, body=None, headers=None, json_body=None, timeout=30):
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if self.api_key and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.api_key}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return Response(answer.status, answer.getheaders(), answer.read())
        finally:
            connection.close()

    def send(self, message, headers=None, expect=202):
        response = self.request("POST", "/v1/messages", json_body=message, headers=headers)
        assert response.status == expect, response
        return response.json()

    def message(self, message_id):
        response = self.request("GET", f"/v1/messages/{message_id}")
        assert response.status == 200, response
        return response.json()

    def wait_final(self, message_id, timeout=30):
        """Waits until every recipient of the message is final; returns the message."""
        def final():
            message = self.message(message_id)
            return message if all(r["status"] in self.FINAL for r in message["recipients"]) else None
        return wait_until(final, timeout=timeout, what=f"{message_id} to be final")

    def wait_status(self, message_id, recipient_status, timeout=30):
        """Waits until every recipient has `recipient_status`; returns the message."""
        def reached():
            message = self.message(message_id)
            return message if all(r["status"] == recipient_status for r in message["recipients"]) else None
        return wait_until(reached, timeout=timeout, what=f"{message_id} recipients to be {recipient_status}")

    def metrics(self):
        text = self.request("GET", "/metrics").body.decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def cli(self, *args, env=None, input=None, timeout=30):
        """Runs a `mailgate` subcommand with this gateway's environment."""
        merged = dict(self.env)
        merged.update(env or {})
        return subprocess.run([BINARY, *args], env=merged, capture_output=True, text=True, input=input, timeout=timeout)


class PeerProcess:
    """A Python peer from Tests/MailgateTesting that prints `PORT <n>` once listening.
    Its stdin stays open: it exits when the test process does."""

    def __init__(self, script, args, workdir):
        self.log_path = Path(workdir) / f"{Path(script).stem}-{time.monotonic_ns()}.jsonl"
        self.process = subprocess.Popen(
            [sys.executable, str(PEERS / script), *args, "--log", str(self.log_path), "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise AssertionError(f"{script} did not start: {line!r} {self.process.stderr.read()}")
        self.port = int(line.split()[1])

    def records(self):
        try:
            return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class SMTPPeer(PeerProcess):
    """The scriptable SMTP server (see smtp_peer.py's docstring for the script keys)."""

    def __init__(self, workdir, script=None, host="127.0.0.1", port=0):
        config = Path(workdir) / f"smtp-{time.monotonic_ns()}.json"
        config.write_text(json.dumps(script or {}))
        super().__init__("smtp_peer.py", [str(config), "--host", host, "--port", str(port)], workdir)
        self.host = host

    def messages(self):
        found = []
        for record in self.records():
            if record.get("event") == "message":
                record = dict(record)
                record["content"] = base64.b64decode(record["data"])
                found.append(record)
        return found

    def commands(self):
        return [r for r in self.records() if r.get("event") == "command"]

    def connections(self):
        return [r for r in self.records() if r.get("event") == "connect"]


class DNSServer(PeerProcess):
    """The zone-scripted DNS server (see dns_server.py)."""

    def __init__(self, workdir, zone, host="127.0.0.1"):
        self.zone_path = Path(workdir) / f"zone-{time.monotonic_ns()}.json"
        self.zone_path.write_text(json.dumps(zone))
        super().__init__("dns_server.py", [str(self.zone_path), "--host", host, "--port", "0"], workdir)
        self.address = f"{host}:{self.port}"


class WebhookReceiver(PeerProcess):
    """The scriptable webhook receiver (see webhook_receiver.py)."""

    def __init__(self, workdir, script=None, secret=None, host="127.0.0.1"):
        """`script` is {"sequence": [RESPONSE, ...], "default": RESPONSE} (webhook_receiver.py)."""
        self.script_path = Path(workdir) / f"hooks-{time.monotonic_ns()}.json"
        self.script_path.write_text(json.dumps(script or {}))
        script = self.script_path
        args = [str(script), "--host", host, "--port", "0"]
        if secret:
            args += ["--secret", secret]
        super().__init__("webhook_receiver.py", args, workdir)
        self.url = f"http://{host}:{self.port}/hooks/mail"

    def requests(self):
        return self.records()

    def rescript(self, script):
        """Replaces the script atomically (the receiver re-reads it on change)."""
        temporary = self.script_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(script))
        temporary.replace(self.script_path)


def assert_problem(response, status):
    """Checks an RFC 9457 error answer (SPEC §2) and returns its JSON body."""
    assert response.status == status, response
    assert (response.header("Content-Type") or "").split(";")[0] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status, body
    assert body["type"] == "about:blank", body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body
