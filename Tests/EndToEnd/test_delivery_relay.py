"""Relay mode (SPEC §1 MAILGATE_RELAY, §3, §6 "Relay mode"): a private Postfix with
STARTTLS on a self-signed certificate as the smarthost, and the scriptable SMTP
peer as relay or as the sink behind Postfix."""

import base64
import email
import email.policy
import sqlite3
import time

import pytest

from harness import Gateway, SMTPPeer, wait_until
from postfix import PrivatePostfix, postfix_available, self_signed_certificate

pytestmark = pytest.mark.skipif(not postfix_available(), reason="needs root and Debian's postfix")

# Long enough that a deferred recipient stays deferred for the whole test.
QUIET = {"MAILGATE_RETRY_SCHEDULE": "10m", "MAILGATE_SMTP_TIMEOUT": "5s"}


@pytest.fixture(scope="module")
def postfix_relay(tmp_path_factory):
    """A Postfix offering STARTTLS on a self-signed certificate, relaying to a
    plain smtp_peer (the sink): shared by this module's tests to start it once."""
    workdir = tmp_path_factory.mktemp("postfix-relay")
    sink = SMTPPeer(workdir, {"hostname": "sink.test"})
    cert, key = self_signed_certificate(workdir / "certs", "relay.test")
    postfix = PrivatePostfix(workdir, relayhost=("127.0.0.1", sink.port), tls=(cert, key))
    try:
        postfix.start()
        yield postfix, sink
    finally:
        postfix.stop()
        sink.stop()


def stored_content(node, message_id):
    """The message exactly as the gateway composed it, read from its SQLite queue."""
    with sqlite3.connect(f"file:{node.workdir / 'data' / 'queue.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
        (content,) = db.execute("SELECT content FROM message_contents WHERE message_id = ?", (message_id,)).fetchone()
    return bytes(content)


def without_first_received(content):
    """The content minus the Received: header Postfix put on top (with its folded lines)."""
    assert content.startswith(b"Received: "), content[:200]
    lines = content.split(b"\r\n")
    index = 1
    while lines[index][:1] in (b" ", b"\t"):
        index += 1
    return b"\r\n".join(lines[index:]), b"\r\n".join(lines[:index])


def message_with_id(peer, message_id):
    marker = f"Message-ID: <{message_id}@gateway.test>".encode()
    found = [m for m in peer.messages() if marker in m["content"]]
    return found[0] if found else None


def test_starttls_relay_with_tls_verify_false_delivers_byte_exact(postfix_relay, gateway):
    postfix, sink = postfix_relay
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{postfix.port}?tls_verify=false"})
    attachment = bytes(range(256)) * 12 + b"\r\n.\r\n..end"
    structured = node.send({
        "from": "Alice Ä <alice@example.com>",
        "to": ["bob@example.org", {"email": "carol@example.net", "name": "Carol Ö"}],
        "subject": "Relay check ✓",
        "text": "first line\n.starts with a dot\n\nlast line ä\n",
        "html": "<p>html body</p>",
        "attachments": [{"filename": "blob.bin", "content_type": "application/octet-stream",
                         "content": base64.b64encode(attachment).decode()}],
        "headers": {"X-Campaign": "fall"},
    })
    raw_message = (
        b"From: Raw Sender <raw@example.com>\r\nTo: dave@example.org\r\nSubject: raw relay\r\n"
        b"Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <raw-relay-1@example.com>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"line one\r\n.line with a leading dot\r\n..two dots\r\n.\r\nlast\r\n")
    raw = node.send({"from": "raw@example.com", "to": "dave@example.org",
                     "raw": base64.b64encode(raw_message).decode()})

    for accepted in (structured, raw):
        message = node.wait_final(accepted["id"], timeout=30)
        for recipient in message["recipients"]:
            assert recipient["status"] == "delivered", message
            assert recipient["attempts"] == 1
            assert recipient["last_response"]["code"] == 250
            assert recipient["last_response"]["host"] == "127.0.0.1", "the relay host as configured"

    # The structured message: what the sink got is what the gateway composed, plus Received.
    received = wait_until(lambda: message_with_id(sink, structured["id"]), timeout=20, what="the message at the sink")
    assert sorted(received["rcpt_tos"]) == ["bob@example.org", "carol@example.net"]
    assert received["mail_from"] == "alice@example.com"
    content, received_header = without_first_received(received["content"])
    assert b"relay.test" in received_header and b"ESMTPS" in received_header, received_header
    composed = stored_content(node, structured["id"])
    assert content == composed, "Postfix passed on exactly the composed bytes"

    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["Subject"] == "Relay check ✓"
    assert parsed["X-Campaign"] == "fall"
    assert parsed["Message-ID"] == f"<{structured['id']}@gateway.test>"
    assert parsed["MIME-Version"] == "1.0" and parsed["Date"]
    # Text line breaks are CRLF on the wire (RFC 2046 §4.1.1).
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == "first line\n.starts with a dot\n\nlast line ä\n"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>html body</p>"
    (part,) = list(parsed.iter_attachments())
    assert part.get_filename() == "blob.bin"
    assert part.get_content() == attachment
    assert max(len(line) for line in content.split(b"\r\n")) <= 998

    # The raw message: byte for byte, dot-stuffing undone at every hop.
    received_raw = wait_until(
        lambda: [m for m in sink.messages() if b"<raw-relay-1@example.com>" in m["content"]], timeout=20)
    assert without_first_received(received_raw[0]["content"])[0] == raw_message

    log = postfix.log()
    assert "Anonymous TLS connection established from" in log or "TLS connection established from" in log, log[-3000:]


def test_self_signed_relay_fails_verification_and_defers(postfix_relay, gateway):
    postfix, sink = postfix_relay
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{postfix.port}"})
    accepted = node.send({"from": "alice@example.com", "to": ["verify@example.org", "verify2@example.org"],
                          "subject": "must not go", "text": "x"})
    message = node.wait_status(accepted["id"], "deferred", timeout=30)
    for recipient in message["recipients"]:
        assert recipient["attempts"] == 1
        response = recipient["last_response"]
        assert 400 <= response["code"] < 500, response
        assert response["enhanced_code"].startswith("4."), response
        assert "certificate" in response["message"].lower(), response
        assert response["host"] == "127.0.0.1"
        assert recipient["next_attempt_at"]
    time.sleep(0.5)
    assert not [m for m in sink.messages() if accepted["id"].encode() in m["content"]]


def test_starttls_required_refuses_a_relay_without_starttls(gateway, smtp_peer):
    relay = smtp_peer({})
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}?starttls=required"})
    accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "subject": "s", "text": "secret"})
    message = node.wait_status(accepted["id"], "deferred", timeout=20)
    response = message["recipients"][0]["last_response"]
    assert 400 <= response["code"] < 500 and response["enhanced_code"].startswith("4.7"), response
    assert "STARTTLS" in response["message"], response
    verbs = [c["verb"] for c in relay.commands()]
    assert "EHLO" in verbs
    assert "MAIL" not in verbs and "RCPT" not in verbs and "DATA" not in verbs, verbs
    assert relay.messages() == []


def test_starttls_required_and_refused_with_5xx_defers_rather_than_bounces(gateway, smtp_peer):
    relay = smtp_peer({"ehlo_extra": ["STARTTLS"], "starttls_reply": "554 5.7.3 TLS not today"})
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}?starttls=required"})
    accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "subject": "s", "text": "secret"})
    recipient = node.wait_status(accepted["id"], "deferred", timeout=20)["recipients"][0]
    assert recipient["last_response"]["code"] == 554 and recipient["attempts"] == 1, recipient
    verbs = [c["verb"] for c in relay.commands()]
    assert "STARTTLS" in verbs and "MAIL" not in verbs and "DATA" not in verbs, verbs


def auth_peer(smtp_peer, tmp_path):
    cert, key = self_signed_certificate(tmp_path / "certs", "auth.test")
    return smtp_peer({
        "cert": cert, "key": key, "require_starttls": True,
        "auth": {"users": {"mailgate": "s3cret pass"}, "mechanisms": ["PLAIN", "LOGIN"],
                 "required": True, "require_tls": True},
    })


def test_auth_over_starttls_delivers_as_the_configured_user(gateway, smtp_peer, tmp_path):
    relay = auth_peer(smtp_peer, tmp_path)
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://mailgate:s3cret%20pass@127.0.0.1:{relay.port}?tls_verify=false"})
    accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "subject": "s", "text": "x"})
    message = node.wait_final(accepted["id"], timeout=20)
    assert message["recipients"][0]["status"] == "delivered", message
    (received,) = relay.messages()
    assert received["auth"] == "mailgate"
    assert received["tls"] is True
    auth_commands = [c for c in relay.commands() if c["verb"] == "AUTH"]
    assert auth_commands and all(c["tls"] for c in auth_commands), "AUTH only after STARTTLS"
    assert "s3cret" not in node.log_text()


def test_refused_auth_defers_with_535(gateway, smtp_peer, tmp_path):
    relay = auth_peer(smtp_peer, tmp_path)
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://mailgate:wrong@127.0.0.1:{relay.port}?tls_verify=false"})
    accepted = node.send({"from": "alice@example.com", "to": ["bob@example.org", "eve@example.org"],
                          "subject": "s", "text": "x"})
    message = node.wait_status(accepted["id"], "deferred", timeout=20)
    for recipient in message["recipients"]:
        assert recipient["last_response"]["code"] == 535, recipient
        assert recipient["last_response"]["enhanced_code"].startswith("5.7"), recipient
        assert recipient["attempts"] == 1
    assert relay.messages() == []
    assert "MAIL" not in [c["verb"] for c in relay.commands()]


def test_connection_is_reused_for_messages_to_the_relay_with_rset_between(gateway, smtp_peer):
    relay = smtp_peer({"pipelining": True})
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}",
                        "MAILGATE_DESTINATION_CONNECTIONS": "2"})
    count = 8
    batch = node.request("POST", "/v1/messages/batch", json_body={"messages": [
        {"from": "alice@example.com", "to": f"rcpt{i}@example.org", "subject": f"m{i}", "text": f"body {i}"}
        for i in range(count)]})
    assert batch.status == 200, batch
    ids = [result["id"] for result in batch.json()["results"]]
    for message_id in ids:
        assert node.wait_final(message_id, timeout=20)["recipients"][0]["status"] == "delivered"
    assert len(relay.messages()) == count
    sessions = {c["session"] for c in relay.connections()}
    assert 1 <= len(sessions) <= 2 < count, sessions
    for session in sessions:
        verbs = [c["verb"] for c in relay.commands() if c["session"] == session and c["verb"] in ("MAIL", "RSET")]
        mails = verbs.count("MAIL")
        # Every transaction after a session's first starts with RSET.
        assert verbs == ["MAIL"] + ["RSET", "MAIL"] * (mails - 1), verbs


def test_smtps_relay_speaks_tls_from_the_first_byte(gateway, smtp_peer, tmp_path):
    cert, key = self_signed_certificate(tmp_path / "certs", "smtps.test")
    relay = smtp_peer({"cert": cert, "key": key, "implicit_tls": True})
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtps://127.0.0.1:{relay.port}?tls_verify=false"})
    accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "text": "x"})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    (received,) = relay.messages()
    assert received["tls"] is True
    assert all(c["tls"] for c in relay.commands())


def test_auth_login_and_clear_text_auth_on_a_loopback_relay(gateway, smtp_peer, tmp_path):
    cert, key = self_signed_certificate(tmp_path / "certs", "login.test")
    login_only = smtp_peer({"cert": cert, "key": key, "auth": {
        "users": {"user@example.com": "pw"}, "mechanisms": ["LOGIN"], "required": True, "require_tls": True}})
    # No TLS at all: AUTH in clear text is allowed because the relay is on loopback.
    clear = smtp_peer({"auth": {"users": {"plain-user": "pw"}, "mechanisms": ["PLAIN"], "required": True,
                                "require_tls": False}})
    for peer, user in ((login_only, "user%40example.com"), (clear, "plain-user")):
        node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://{user}:pw@127.0.0.1:{peer.port}?tls_verify=false"},
                       name=f"gateway-{peer.port}")
        accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "text": "x"})
        message = node.wait_final(accepted["id"], timeout=20)
        assert message["recipients"][0]["status"] == "delivered", message
        node.stop()
    assert login_only.messages()[0]["auth"] == "user@example.com"
    assert [c["arg"].split()[0] for c in login_only.commands() if c["verb"] == "AUTH"] == ["LOGIN"]
    assert clear.messages()[0]["auth"] == "plain-user" and clear.messages()[0]["tls"] is False


def test_relay_certificate_is_verified_against_the_trust_store_and_the_address(gateway, smtp_peer, tmp_path):
    """OpenSSL's default trust store honours SSL_CERT_FILE: trusting the test
    certificate makes verification pass, unless the name does not match."""
    matching, matching_key = self_signed_certificate(tmp_path / "good", "relay.test", ip="127.0.0.1")
    other, other_key = self_signed_certificate(tmp_path / "bad", "relay.test", ip="127.0.0.2")
    for cert, key, status in ((matching, matching_key, "delivered"), (other, other_key, "deferred")):
        peer = smtp_peer({"cert": cert, "key": key})
        node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{peer.port}?starttls=required",
                            "SSL_CERT_FILE": cert}, name=f"gateway-{peer.port}")
        accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "text": "x"})
        message = node.wait_status(accepted["id"], status)
        if status == "delivered":
            assert peer.messages()[0]["tls"] is True
        else:
            assert "certificate" in message["recipients"][0]["last_response"]["message"].lower(), message
            assert peer.messages() == []
        node.stop()


def test_postfix_relay_with_starttls_required(postfix_relay, gateway):
    postfix, sink = postfix_relay
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{postfix.port}?starttls=required&tls_verify=false"})
    accepted = node.send({"from": "alice@example.com", "to": "required@example.org", "text": "x"})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    wait_until(lambda: message_with_id(sink, accepted["id"]), timeout=20, what="the message at the sink")
