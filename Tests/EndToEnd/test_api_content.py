"""What reaches the relay: nothing a caller sends becomes a header, and Bcc
recipients get the message without any copy showing them (SPEC §2)."""

import base64
import email
import email.policy

from harness import wait_until

GENERATED = {"date", "message-id", "mime-version", "content-type", "content-transfer-encoding"}
EVIL = "evil@attacker.example"


def relayed(gateway, smtp_peer, request, expect=202):
    relay = smtp_peer()
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}"})
    accepted = node.send(request)
    message = node.wait_final(accepted["id"])
    assert {r["status"] for r in message["recipients"]} == {"delivered"}, message
    received = wait_until(lambda: relay.messages(), timeout=10, what="the relayed message")
    assert len(received) == 1
    return accepted, received[0]


def header_section(content):
    return content.split(b"\r\n\r\n", 1)[0]


def field_names(section):
    """Names of the header fields in a raw header section (continuation lines skipped)."""
    names = []
    for line in section.split(b"\r\n"):
        assert line, "no empty line inside a header section"
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, f"header line without a colon: {line!r}"
        names.append(name.decode("ascii").lower())
    return names


def test_nothing_a_caller_sends_becomes_a_header(gateway, smtp_peer):
    request = {
        "from": {"email": "alice@example.com", "name": "Alice Bcc: evil"},
        "to": [{"email": "bob@example.org", "name": f"Bob, Bcc: {EVIL}"}, "\"Carol, X-Evil: 1\" <carol@example.net>"],
        "reply_to": "Support <support@example.com>",
        "subject": f"Hello Bcc: {EVIL}\u2028X-Evil: 1\u2029X-Evil: 2 =?utf-8?q?=0D=0AX-Evil:_3?=",
        "headers": {"X-Campaign": f"fall Bcc: {EVIL}", "X-Note": "a\tb  X-Evil: 4 \u00e4"},
        "text": f"first line\r\nBcc: {EVIL}\r\n\r\nX-Evil: 5\r\n.\r\nafter a lone dot\nX-Evil: 6",
        "html": f"<p>Bcc: {EVIL}</p>\r\n\r\nX-Evil: 7",
        "attachments": [{"filename": 'report"; X-Evil: 8.txt', "content_type": "text/plain; charset=utf-8",
                         "content": base64.b64encode(f"X-Evil: 9\r\n\r\nBcc: {EVIL}\r\n".encode()).decode()}],
        "tags": ["X-Evil: 10"], "metadata": {"X-Evil": "11"},
    }
    accepted, received = relayed(gateway, smtp_peer, request)
    content = received["content"]
    assert sorted(received["rcpt_tos"]) == ["bob@example.org", "carol@example.net"]

    top = field_names(header_section(content))
    assert set(top) <= GENERATED | {"from", "to", "reply-to", "subject", "x-campaign", "x-note"}, top
    assert len(top) == len(set(top)), f"a header appears twice: {top}"

    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["Message-ID"] == f"<{accepted['id']}@gateway.test>"
    assert EVIL in str(parsed["Subject"]) and "X-Evil: 1" in str(parsed["Subject"])
    assert parsed["X-Campaign"] == f"fall Bcc: {EVIL}"
    for part in parsed.walk():
        part_names = {name.lower() for name in part.keys()}
        if part is not parsed:
            assert part_names <= {"content-type", "content-transfer-encoding", "content-disposition", "content-id"}, part_names
        assert "bcc" not in part_names and "x-evil" not in part_names
    bodies = [part.get_content() for part in parsed.walk() if not part.is_multipart()]
    assert any("X-Evil: 5" in body for body in bodies if isinstance(body, str)), "the text body arrives as written"
    attachment = next(part for part in parsed.walk() if part.get_filename())
    assert attachment.get_filename() == 'report"; X-Evil: 8.txt'
    assert attachment.get_payload(decode=True) == f"X-Evil: 9\r\n\r\nBcc: {EVIL}\r\n".encode()


def test_bcc_recipients_get_the_message_but_no_copy_shows_them(gateway, smtp_peer):
    request = {
        "from": "alice@example.com", "to": "bob@example.org", "cc": ["carol@example.net"],
        "bcc": ["hidden@example.com", {"email": "secret@example.net", "name": "Secret Person"}],
        "subject": "Minutes", "text": "see attached", "html": "<p>see attached</p>",
    }
    accepted, received = relayed(gateway, smtp_peer, request)
    assert sorted(received["rcpt_tos"]) == ["bob@example.org", "carol@example.net", "hidden@example.com", "secret@example.net"]
    content = received["content"]
    for hidden in [b"hidden@example.com", b"secret@example.net", b"Secret Person"]:
        assert hidden not in content, hidden
    assert b"\r\nbcc:" not in content.lower() and not content.lower().startswith(b"bcc:")
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["To"] == "bob@example.org" and parsed["Cc"] == "carol@example.net"
    assert [r["email"] for r in accepted["recipients"]][2:] == ["hidden@example.com", "secret@example.net"]


def test_raw_message_keeps_its_headers_and_uses_the_envelope(gateway, smtp_peer):
    raw = (f"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nBcc: {EVIL}\r\nSubject: raw\r\n"
           "Message-ID: <own@example.com>\r\n\r\nraw body\r\n").encode()
    request = {"from": "bounces@example.com", "to": "bob@example.org", "raw": base64.b64encode(raw).decode()}
    _, received = relayed(gateway, smtp_peer, request)
    assert received["mail_from"] == "bounces@example.com"
    assert received["rcpt_tos"] == ["bob@example.org"], "raw headers never add recipients"
    assert b"Subject: raw\r\n" in received["content"] and received["content"].endswith(b"raw body\r\n")
    content = received["content"]
    assert b"Bcc:" not in content and EVIL.encode() not in content, "no copy shows a Bcc field"
    assert b"Message-ID: <own@example.com>\r\n" in content, "the caller's own Message-ID stays"
    assert content.count(b"Message-ID:") == 1
    assert content.startswith(b"Date: "), "a missing Date is added, as Postfix's cleanup does"


def test_raw_message_without_message_id_gets_the_gateways(gateway, smtp_peer):
    raw = b"From: Alice <alice@example.com>\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nSubject: raw\r\n\r\nbody\r\n"
    request = {"from": "alice@example.com", "to": "bob@example.org", "raw": base64.b64encode(raw).decode()}
    accepted, received = relayed(gateway, smtp_peer, request)
    assert received["content"] == f"Message-ID: <{accepted['id']}@gateway.test>\r\n".encode() + raw
