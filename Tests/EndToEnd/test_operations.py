"""Running mailgate (SPEC §1, §5, §6): signals and draining, start-up refusals,
and what the logs may and may not say."""

import base64
import json
import signal
import socket
import subprocess
import time

import pytest

from harness import BINARY, assert_problem, free_port, wait_until

MESSAGE = {"from": "alice@example.com", "to": ["bob@example.org"], "subject": "Hello", "text": "plain body"}


class KeepAlive:
    """One raw HTTP/1.1 connection kept open across requests."""

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def exchange(self, method, path, body=b"", headers=None):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines += [f"Content-Length: {len(body)}"] if body else []
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *fields = head.decode("latin-1").split("\r\n")
        response_headers = {name.strip().lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)}
        length = int(response_headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        content, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), response_headers, content

    def _fill(self):
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the gateway")
        self.buffer += chunk

    def closed_by_peer(self):
        try:
            return self.socket.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.socket.close()


def refuses_connections(port):
    """True once nothing listens on the port. A probe that lands in the accept queue
    while the listener is being closed is reset rather than refused; that is the
    close in progress, so it is probed again rather than counted either way."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False


# -- SIGTERM


def test_sigterm_drains_and_lets_the_smtp_transaction_in_flight_finish(gateway, smtp_peer):
    relay = smtp_peer({"delays": {"DATA_END": 3}})
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}", "MAILGATE_SMTP_TIMEOUT": "2s"})
    idle = KeepAlive(node.port)
    assert idle.exchange("GET", "/healthz")[0] == 200
    poster = KeepAlive(node.port)
    assert poster.exchange("GET", "/readyz")[0] == 200
    accepted = node.send(MESSAGE)
    wait_until(relay.messages, timeout=10, what="the content to reach the relay (its reply is 3 s away)")

    node.process.send_signal(signal.SIGTERM)
    wait_until(lambda: refuses_connections(node.port), timeout=5, what="the listener to close")
    status, headers, body = idle.exchange("GET", "/readyz")
    assert status == 503 and headers.get("connection", "").lower() == "close", (status, headers)
    assert headers.get("retry-after", "").isdigit()
    assert json.loads(body)["status"] == 503
    assert idle.closed_by_peer()
    status, headers, _ = poster.exchange("POST", "/v1/messages", json.dumps(MESSAGE).encode(),
                                         {"Content-Type": "application/json"})
    assert status == 503 and headers.get("connection", "").lower() == "close"
    assert node.process.poll() is None, "the transaction in flight holds the exit"

    assert node.process.wait(timeout=30) == 0
    assert "signal 15" in node.log_text() or "draining" in node.log_text()
    node.start()
    recipient = node.message(accepted["id"])["recipients"][0]
    assert recipient["status"] == "delivered", "the outcome was recorded before exit"
    assert recipient["attempts"] == 1
    time.sleep(0.5)
    assert len(relay.messages()) == 1, "a recorded outcome is not sent again"
    assert node.stop() == 0


def test_sigterm_serves_a_request_whose_body_is_arriving_and_answers_open_connections_503(gateway):
    """Nothing else drains here, so only the HTTP side holds the exit: the POST whose
    head came before the signal is in flight and is accepted; an idle keep-alive
    connection still gets its 503 with `Connection: close` rather than a reset."""
    node = gateway()
    body = json.dumps(MESSAGE).encode()
    uploading = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    uploading.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
    idle = KeepAlive(node.port)
    assert idle.exchange("GET", "/healthz")[0] == 200
    time.sleep(0.2)

    node.process.send_signal(signal.SIGTERM)
    wait_until(lambda: refuses_connections(node.port), timeout=5, what="the listener to close")
    status, headers, _ = idle.exchange("GET", "/readyz")
    assert status == 503 and headers.get("connection", "").lower() == "close", (status, headers)
    assert headers.get("retry-after", "").isdigit()

    uploading.sendall(body[5:])
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = uploading.recv(65536)
        assert chunk, f"the upload in flight was cut off: {answer!r}"
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202"), head
    assert b"connection: close" in head.lower()
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += uploading.recv(65536)
    message_id = json.loads(rest)["id"]
    uploading.close()

    assert node.process.wait(timeout=30) == 0
    node.start()
    assert node.message(message_id)["recipients"][0]["email"] == "bob@example.org"
    assert node.stop() == 0


def test_a_second_sigterm_exits_at_once_and_the_message_goes_again(gateway, smtp_peer):
    slow = smtp_peer({"delays": {"DATA_END": 20}})
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{slow.port}", "MAILGATE_SMTP_TIMEOUT": "10s"})
    accepted = node.send(MESSAGE)
    wait_until(slow.messages, timeout=10, what="the content to reach the slow relay")
    node.process.send_signal(signal.SIGTERM)
    wait_until(lambda: "draining" in node.log_text(), timeout=5, what="the first signal to be handled")
    node.process.send_signal(signal.SIGTERM)
    status = node.process.wait(timeout=5)
    assert status == 128 + signal.SIGTERM, f"a second signal exits at once with 128+15 (got {status})"

    fast = smtp_peer()
    node.env["MAILGATE_RELAY"] = f"smtp://127.0.0.1:{fast.port}"
    node.start()
    recipient = node.wait_final(accepted["id"], timeout=15)["recipients"][0]
    assert recipient["status"] == "delivered"
    assert [m["rcpt_tos"] for m in fast.messages()] == [["bob@example.org"]], "at least once: sent again after restart"
    assert node.stop() == 0


def test_nothing_accepted_is_lost_across_a_sigterm_restart(gateway):
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s"})
    sent = {node.send(dict(MESSAGE, to=[f"r{i}@example.org", f"s{i}@example.net"]))["id"]: i for i in range(20)}
    later = node.send(dict(MESSAGE, send_at="2099-01-01T00:00:00Z"))["id"]
    assert node.stop() == 0
    node.start()
    for message_id, i in sent.items():
        stored = node.message(message_id)
        assert sorted(r["email"] for r in stored["recipients"]) == [f"r{i}@example.org", f"s{i}@example.net"]
        assert stored["status"] == "queued"
    assert node.message(later)["status"] == "scheduled"
    assert node.stop() == 0


def sigterm_is_caught(pid):
    """True once the process catches SIGTERM: its handler is armed (before, the signal
    would kill it, or be lost while only ignored)."""
    try:
        fields = dict(line.split(":\t", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":\t" in line)
    except FileNotFoundError:
        return True
    bit = 1 << (signal.SIGTERM - 1)
    return bool(int(fields["SigCgt"], 16) & bit)


def test_sigterm_during_start_up_drains_instead_of_killing(gateway):
    node = gateway(start=False, env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}"})
    node.start(wait=False)
    wait_until(lambda: sigterm_is_caught(node.process.pid), timeout=10, what="the signal handler")
    node.process.send_signal(signal.SIGTERM)
    assert node.process.wait(timeout=30) == 0, node.log_text()[-2000:]
    for _ in range(3):
        node.start()
        assert node.stop() == 0, "a SIGTERM as soon as the gateway answers is a clean stop"


def test_bare_command_serves_flags_beat_variables_and_sigint_drains(tmp_path):
    port = free_port("::1")
    environment = {"PATH": "/usr/bin:/bin", "MAILGATE_DATA_DIR": str(tmp_path / "data"), "MAILGATE_LISTEN": "127.0.0.1:1"}
    with open(tmp_path / "log", "wb") as log:
        process = subprocess.Popen([BINARY, "--listen", f"[::1]:{port}"], env=environment, stdout=log, stderr=log)
    try:
        def healthy():
            try:
                with socket.create_connection(("::1", port), timeout=1) as connection:
                    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    return connection.recv(100).startswith(b"HTTP/1.1 200")
            except OSError:
                return process.poll() is not None
        wait_until(healthy, timeout=15, what="mailgate on [::1]")
        assert process.poll() is None, (tmp_path / "log").read_text()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_all_interfaces_need_keys_and_then_serve(gateway):
    node = gateway(start=False, api_key="wide-open-key")
    node.env["MAILGATE_LISTEN"] = f"0.0.0.0:{node.port}"
    node.start()
    assert node.request("GET", "/v1/messages").status == 200
    assert node.request("GET", "/v1/messages", headers={"Authorization": "Bearer nope"}).status == 401
    assert node.stop() == 0


# -- start-up refusals

BAD_CONFIGURATION = [
    ({"MAILGATE_SMTP_TIMEOUT": "abc"}, "MAILGATE_SMTP_TIMEOUT", []),
    ({"MAILGATE_SMTP_TIMEOUT": "30"}, "MAILGATE_SMTP_TIMEOUT", []),
    ({"MAILGATE_WEBHOOK_SECRET": "bad"}, "MAILGATE_WEBHOOK_SECRET", ["bad"]),
    ({"MAILGATE_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"short-secret-16b").decode()}, "MAILGATE_WEBHOOK_SECRET",
     [base64.b64encode(b"short-secret-16b").decode()]),
    ({"MAILGATE_LISTEN": "0.0.0.0:{port}"}, "MAILGATE_API_KEYS", []),
    ({"MAILGATE_LISTEN": "[::]:{port}"}, "MAILGATE_API_KEYS", []),
    ({"MAILGATE_WEBHOOK_URL": "http://10.0.0.1/x"}, "MAILGATE_WEBHOOK_URL", []),
    ({"MAILGATE_WEBHOOK_URL": "http://[::ffff:127.0.0.1]/x"}, "MAILGATE_WEBHOOK_URL", []),
    ({"MAILGATE_RELAY": "http://relay.example.com"}, "MAILGATE_RELAY", []),
    ({"MAILGATE_RELAY": "smtp://user:hunter2-secret@relay.example.com:99999"}, "MAILGATE_RELAY", ["hunter2-secret"]),
    ({"MAILGATE_MAX_MESSAGE_SIZE": "10XB"}, "MAILGATE_MAX_MESSAGE_SIZE", []),
    ({"MAILGATE_RETRY_SCHEDULE": "1m,soon"}, "MAILGATE_RETRY_SCHEDULE", []),
    ({"MAILGATE_QUEUE_LIMIT": "-5"}, "MAILGATE_QUEUE_LIMIT", []),
    ({"MAILGATE_WEBHOOK_ALLOW_PRIVATE": "maybe"}, "MAILGATE_WEBHOOK_ALLOW_PRIVATE", []),
    ({"MAILGATE_LOG_FORMAT": "xml"}, "MAILGATE_LOG_FORMAT", []),
    ({"MAILGATE_LISTEN": "127.0.0.1"}, "MAILGATE_LISTEN", []),
    ({"MAILGATE_LISTEN": "[::]", "MAILGATE_API_KEYS": "k"}, "MAILGATE_LISTEN", []),
    ({"MAILGATE_RETRY_SCHEDULE": "1m,,5m"}, "MAILGATE_RETRY_SCHEDULE", []),
    ({"MAILGATE_DATABASE_URL": "postgres://app@127.0.0.1:1/mail?password=pg-query-secret", "MAILGATE_API_KEYS": "k"},
     "MAILGATE_DATABASE_URL",
     ["pg-query-secret"]),
    ({"MAILGATE_SMTP_TIMEOUT": "5x", "MAILGATE_LOG_FORMAT": "json"}, "MAILGATE_SMTP_TIMEOUT", []),
    ({"MAILGATE_DATA_DIR": "/proc/no/such/dir", "MAILGATE_LOG_FORMAT": "json"}, "MAILGATE_DATA_DIR", []),
]


@pytest.mark.parametrize("env,variable,hidden", BAD_CONFIGURATION, ids=[f"{v}-{i}" for i, (_, v, _) in enumerate(BAD_CONFIGURATION)])
def test_bad_configuration_stops_the_start_with_one_line_naming_the_variable(tmp_path, env, variable, hidden):
    port = free_port()
    environment = {"PATH": "/usr/bin:/bin", "MAILGATE_DATA_DIR": str(tmp_path / "data"), "MAILGATE_LISTEN": f"127.0.0.1:{port}"}
    environment.update({name: value.format(port=port) for name, value in env.items()})
    result = subprocess.run([BINARY, "serve"], env=environment, capture_output=True, text=True, timeout=15)
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if environment.get("MAILGATE_LOG_FORMAT") == "json":
        entries = [json.loads(line) for line in lines]  # every line a JSON object, the refusal among them
        lines = [entry["message"] for entry in entries if entry["level"] == "critical"]
    assert len(lines) == 1 and variable in lines[0], result.stderr
    assert result.stdout == ""
    for secret in hidden:
        assert secret not in result.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir()) or variable != "MAILGATE_LISTEN"


def test_a_bad_flag_value_is_refused_like_its_variable(tmp_path):
    result = subprocess.run([BINARY, "serve", "--smtp-timeout", "abc", "--listen", f"127.0.0.1:{free_port()}",
                             "--data-dir", str(tmp_path / "data")], env={"PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=15)
    assert result.returncode == 1
    assert "SMTP_TIMEOUT" in result.stderr.upper().replace("-", "_")


# -- logs


SECRETS = {
    "api_key": "sk-live-4f9d2c7e81b3a6f0",
    "relay_password": "relay-pass-Q7x9Lm2",
    "webhook_secret_key": base64.b64encode(b"webhook-signing-key-0123456789ab").decode(),
}
MARKER = "BODY-MARKER-7d41c9e2"


def exercise(node, relay, hooks):
    """Sends, delivers, bounces, defers, refuses and cancels, so every kind of line is logged."""
    accepted = node.send({"from": "alice@example.com", "to": ["bob@example.org", "gone@example.org", "later@example.org"],
                          "subject": "log check", "text": f"text {MARKER}", "html": f"<p>{MARKER}</p>",
                          "attachments": [{"filename": "a.txt", "content_type": "text/plain",
                                           "content": base64.b64encode(MARKER.encode()).decode()}],
                          "webhook_url": hooks.url})
    node.request("POST", "/v1/messages", json_body={"from": "alice@example.com", "to": "broken", "text": MARKER})
    node.request("POST", "/v1/messages", body=f'{{"text": "{MARKER}"'.encode(), headers={"Content-Type": "application/json"})
    node.request("GET", "/v1/messages", headers={"Authorization": "Bearer sk-wrong-key-0000"})
    wait_until(lambda: all(r["status"] != "queued" for r in node.message(accepted["id"])["recipients"]),
               timeout=15, what="every recipient to have an outcome")
    wait_until(lambda: len(hooks.requests()) >= 3, timeout=15, what="three webhook posts")
    scheduled = node.send({"from": "alice@example.com", "to": "bob@example.org", "text": MARKER, "send_at": "2099-01-01T00:00:00Z"})
    assert node.request("DELETE", f"/v1/messages/{scheduled['id']}").status == 200
    return accepted


def secret_run(gateway, smtp_peer, webhook_receiver, log_format):
    relay = smtp_peer({"auth": {"users": {"relayuser": SECRETS["relay_password"]}, "mechanisms": ["PLAIN", "LOGIN"]},
                       "rcpt": {"gone@example.org": "550 5.1.1 no such user", "later@example.org": "451 4.2.0 try later"}})
    secret = "whsec_" + SECRETS["webhook_secret_key"]
    hooks = webhook_receiver(secret=secret)
    node = gateway(api_key=SECRETS["api_key"], env={
        "MAILGATE_RELAY": f"smtp://relayuser:{SECRETS['relay_password']}@127.0.0.1:{relay.port}",
        "MAILGATE_WEBHOOK_SECRET": secret, "MAILGATE_WEBHOOK_ALLOW_PRIVATE": "true",
        "MAILGATE_LOG_LEVEL": "trace", "MAILGATE_LOG_FORMAT": log_format, "MAILGATE_SMTP_TIMEOUT": "2s"})
    accepted = exercise(node, relay, hooks)
    assert relay.messages() and relay.messages()[0]["auth"] == "relayuser", "AUTH was used"
    assert node.stop() == 0
    return node, accepted


def test_logs_never_show_a_secret_or_a_message_body(gateway, smtp_peer, webhook_receiver):
    node, _ = secret_run(gateway, smtp_peer, webhook_receiver, "text")
    log = node.log_text()
    assert "message accepted" in log
    forbidden = list(SECRETS.values()) + ["sk-wrong-key-0000", MARKER, base64.b64encode(MARKER.encode()).decode(),
                                          base64.b64encode(f"\0relayuser\0{SECRETS['relay_password']}".encode()).decode(),
                                          base64.b64encode(SECRETS["relay_password"].encode()).decode()]
    for secret in forbidden:
        assert secret not in log, f"{secret!r} appears in the log"


def test_json_logs_are_one_object_a_line_with_request_and_message_ids(gateway, smtp_peer, webhook_receiver):
    node, accepted = secret_run(gateway, smtp_peer, webhook_receiver, "json")
    entries = []
    for line in node.log_text().splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict) and {"time", "level", "message"} <= set(entry), line
        entries.append(entry)
    api_lines = [e for e in entries if e.get("logger") == "mailgate.api"]
    assert api_lines and all("request_id" in e for e in api_lines), api_lines
    outcomes = [e for e in entries if e.get("logger") == "mailgate.delivery" and "recipient" in e]
    assert {e["message"] for e in outcomes} >= {"recipient delivered", "recipient bounced", "recipient deferred"}, outcomes
    assert all(e.get("message_id") == accepted["id"] for e in outcomes), outcomes
    assert all(MARKER not in json.dumps(e) for e in entries)
