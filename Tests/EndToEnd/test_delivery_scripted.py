"""Per-recipient outcomes (SPEC §3, §6 last_response/attempt) against the scripted
SMTP peer as the relay: mixed replies in one transaction, retries, refusals and
failures at every phase, transaction sizes, PIPELINING, SMTPUTF8, cancellation."""

import base64
import email
import email.policy
import json
import time

from harness import free_port, wait_until
from postfix import self_signed_certificate

# A deferred recipient stays deferred for the whole test unless a test says otherwise.
QUIET = {"MAILGATE_RETRY_SCHEDULE": "10m", "MAILGATE_SMTP_TIMEOUT": "5s"}


def relay_env(peer, host="127.0.0.1", **extra):
    return {**QUIET, "MAILGATE_RELAY": f"smtp://{host}:{peer.port}", **extra}


def by_email(message):
    return {r["email"]: r for r in message["recipients"]}


def wait_recipient(node, message_id, email, status, timeout=20):
    def reached():
        message = node.message(message_id)
        return message if by_email(message)[email]["status"] == status else None
    return wait_until(reached, timeout=timeout, what=f"{email} to be {status}")


def test_mixed_rcpt_replies_in_one_transaction_then_retry(gateway, smtp_peer, webhook_receiver):
    script = {"rcpt": {"soft@example.org": "451 4.2.0 mailbox busy, try later",
                       "hard@example.org": "550 5.1.1 no such user here"}}
    first = smtp_peer(script)
    hooks = webhook_receiver()
    node = gateway(env=relay_env(first, host="localhost", MAILGATE_RETRY_SCHEDULE="2s",
                                 MAILGATE_WEBHOOK_URL=hooks.url, MAILGATE_WEBHOOK_ALLOW_PRIVATE="true"))
    accepted = node.send({"from": "alice@example.com",
                          "to": ["ok@example.org", "soft@example.org", "hard@example.org"],
                          "subject": "mix", "text": "x"})
    message = wait_recipient(node, accepted["id"], "soft@example.org", "deferred")
    recipients = by_email(message)
    assert recipients["ok@example.org"]["status"] == "delivered"
    assert recipients["hard@example.org"]["status"] == "bounced"
    assert message["status"] == "queued", "a deferred recipient keeps the message open"

    delivered = recipients["ok@example.org"]
    assert delivered["attempts"] == 1
    assert delivered["last_response"] == {
        "code": 250, "enhanced_code": "2.0.0", "message": "OK queued", "host": "localhost"}, "the DATA reply decides"
    deferred = recipients["soft@example.org"]
    assert deferred["attempts"] == 1
    assert deferred["last_response"] == {
        "code": 451, "enhanced_code": "4.2.0", "message": "mailbox busy, try later", "host": "localhost"}
    assert deferred["next_attempt_at"]
    bounced = recipients["hard@example.org"]
    assert bounced["attempts"] == 1
    assert bounced["last_response"] == {
        "code": 550, "enhanced_code": "5.1.1", "message": "no such user here", "host": "localhost"}
    (sent,) = first.messages()
    assert sent["rcpt_tos"] == ["ok@example.org"], "one transaction; the refused recipients are not in it"
    assert [c["arg"] for c in first.commands() if c["verb"] == "RCPT"] == [
        "TO:<ok@example.org>", "TO:<soft@example.org>", "TO:<hard@example.org>"]

    # Same port, now accepting everyone: the retry (about 2 s later) delivers.
    first.stop()
    second = smtp_peer({}, port=first.port)
    message = wait_recipient(node, accepted["id"], "soft@example.org", "delivered", timeout=20)
    retried = by_email(message)["soft@example.org"]
    assert retried["attempts"] == 2
    assert retried["last_response"]["code"] == 250 and retried["last_response"]["host"] == "localhost"
    assert by_email(message)["hard@example.org"]["status"] == "bounced", "bounced stays bounced"
    assert message["status"] == "complete"
    (resent,) = second.messages()
    assert resent["rcpt_tos"] == ["soft@example.org"], "only the deferred recipient is sent again"

    posted = wait_until(lambda: len(hooks.requests()) >= 4 and hooks.requests(), what="four events")
    events = sorted((json.loads(p["body"]) for p in posted), key=lambda e: (e["recipient"], e["attempt"]))
    assert [(e["recipient"], e["type"], e["attempt"]) for e in events] == [
        ("hard@example.org", "bounced", 1), ("ok@example.org", "delivered", 1),
        ("soft@example.org", "deferred", 1), ("soft@example.org", "delivered", 2)]


def test_421_greeting_defers(gateway, smtp_peer):
    peer = smtp_peer({"greeting": "421 4.3.2 too busy for you"})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    message = node.wait_status(accepted["id"], "deferred")
    for recipient in message["recipients"]:
        assert recipient["attempts"] == 1
        assert recipient["last_response"] == {
            "code": 421, "enhanced_code": "4.3.2", "message": "too busy for you", "host": "127.0.0.1"}


def test_552_at_end_of_data_bounces_every_recipient(gateway, smtp_peer):
    peer = smtp_peer({"data_end": "552 5.3.4 message too big for policy"})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    message = node.wait_final(accepted["id"])
    assert message["status"] == "complete"
    for recipient in message["recipients"]:
        assert recipient["status"] == "bounced"
        assert recipient["attempts"] == 1
        assert recipient["last_response"] == {
            "code": 552, "enhanced_code": "5.3.4", "message": "message too big for policy", "host": "127.0.0.1"}
    assert len(peer.messages()) == 1


def test_connection_dropped_mid_data_defers(gateway, smtp_peer):
    after_354 = smtp_peer({"drop": "after_354"})
    before_reply = smtp_peer({"drop": "before_data_reply"})
    for peer in (after_354, before_reply):
        node = gateway(env=relay_env(peer), name=f"gateway-{peer.port}")
        accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
        message = node.wait_status(accepted["id"], "deferred")
        for recipient in message["recipients"]:
            assert recipient["attempts"] == 1
            assert 400 <= recipient["last_response"]["code"] < 500, recipient
            assert recipient["last_response"]["host"] == "127.0.0.1"
        node.stop()
    assert len(before_reply.messages()) == 1, "the content arrived; with no reply it is not final"


def test_reply_slower_than_the_smtp_timeout_defers(gateway, smtp_peer):
    peer = smtp_peer({"delays": {"RCPT": 3}})
    node = gateway(env=relay_env(peer, MAILGATE_SMTP_TIMEOUT="1s"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    message = node.wait_status(accepted["id"], "deferred", timeout=15)
    response = message["recipients"][0]["last_response"]
    assert 400 <= response["code"] < 500 and "timed out" in response["message"], response
    assert peer.messages() == []


def test_end_of_data_waits_five_command_timeouts(gateway, smtp_peer):
    peer = smtp_peer({"delays": {"DATA_END": 2}})
    node = gateway(env=relay_env(peer, MAILGATE_SMTP_TIMEOUT="1s"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    message = node.wait_final(accepted["id"], timeout=15)
    assert message["recipients"][0]["status"] == "delivered", message
    assert message["recipients"][0]["attempts"] == 1


def test_still_deferred_after_the_queue_lifetime_fails_with_a_reason(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({"rcpt_default": "451 4.7.1 greylisted"})
    hooks = webhook_receiver()
    node = gateway(env=relay_env(
        peer, MAILGATE_RETRY_SCHEDULE="1s", MAILGATE_MAX_QUEUE_LIFETIME="3s",
        MAILGATE_WEBHOOK_URL=hooks.url, MAILGATE_WEBHOOK_ALLOW_PRIVATE="true"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    message = node.wait_final(accepted["id"], timeout=20)
    recipient = message["recipients"][0]
    assert recipient["status"] == "failed", message
    assert recipient["attempts"] >= 2
    assert recipient["last_response"]["code"] == 451
    assert message["status"] == "complete"

    events = wait_until(lambda: (lambda e: e if any(x["type"] == "failed" for x in e) else None)(
        [json.loads(r["body"]) for r in hooks.requests()]), timeout=10, what="the failed event")
    assert [e["type"] for e in events] == ["deferred", "failed"], "deferred once, then failed"
    failed = events[1]
    assert failed["reason"], failed
    assert failed["attempt"] == recipient["attempts"]
    rcpts = [c for c in peer.commands() if c["verb"] == "RCPT"]
    assert len(rcpts) == recipient["attempts"]
    time.sleep(1.5)
    assert len([c for c in peer.commands() if c["verb"] == "RCPT"]) == len(rcpts), "no attempt after failing"


def test_more_than_100_recipients_take_two_transactions(gateway, smtp_peer):
    peer = smtp_peer({"pipelining": True})
    node = gateway(env=relay_env(peer))
    recipients = [f"r{i:03}@example.org" for i in range(150)]
    accepted = node.send({"from": "alice@example.com", "to": "list@example.org", "bcc": recipients,
                          "subject": "big", "text": "one body"})
    message = node.wait_final(accepted["id"], timeout=30)
    assert {r["status"] for r in message["recipients"]} == {"delivered"}
    sent = peer.messages()
    assert sorted(len(m["rcpt_tos"]) for m in sent) == [51, 100]
    assert sorted(sum((m["rcpt_tos"] for m in sent), [])) == sorted(recipients + ["list@example.org"])
    assert sent[0]["content"] == sent[1]["content"], "the same body, twice"


def test_pipelining_is_used_when_offered_and_only_then(gateway, smtp_peer):
    with_pipelining = smtp_peer({"pipelining": True})
    without = smtp_peer({})
    for peer in (with_pipelining, without):
        node = gateway(env=relay_env(peer), name=f"gateway-{peer.port}")
        accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org", "c@example.org"],
                              "text": "x"})
        assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
        node.stop()
    envelope = [c for c in with_pipelining.commands() if c["verb"] in ("MAIL", "RCPT")]
    assert envelope[0]["verb"] == "MAIL" and envelope[0]["unread"] > 0, "RCPTs arrived with MAIL FROM"
    assert all(c["unread"] == 0 for c in without.commands()), "one command at a time without PIPELINING"


def test_utf8_local_part_bounces_at_a_peer_without_smtputf8(gateway, smtp_peer):
    peer = smtp_peer({"smtputf8": False})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["bob@example.org", "jörg@example.org"],
                          "subject": "utf8", "text": "x"})
    message = node.wait_final(accepted["id"])
    recipients = by_email(message)
    assert recipients["bob@example.org"]["status"] == "delivered"
    refused = recipients["jörg@example.org"]
    assert refused["status"] == "bounced", refused
    assert refused["last_response"]["code"] // 100 == 5 and refused["last_response"]["enhanced_code"].startswith("5.6"), refused
    (sent,) = peer.messages()
    assert sent["rcpt_tos"] == ["bob@example.org"]
    assert not any("SMTPUTF8" in (c["arg"] or "") for c in peer.commands())
    # The copy for bob names jörg in To: downgraded (RFC 6857), as the peer took no UTF-8.
    assert max(sent["content"]) < 0x80, sent["content"][:400]
    parsed = email.message_from_bytes(sent["content"], policy=email.policy.default)
    assert [a.addr_spec for a in parsed["to"].addresses] == ["bob@example.org"]
    assert "jörg@example.org" in str(parsed["to"])


def test_utf8_reply_to_is_downgraded_for_a_peer_with_8bitmime_but_without_smtputf8(gateway, smtp_peer):
    peer = smtp_peer({"smtputf8": False, "eightbitmime": True})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": "bob@example.org", "reply_to": "José <jösé@example.com>",
                          "subject": "s", "text": "x"})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    (sent,) = peer.messages()
    assert max(sent["content"]) < 0x80, "RFC 6532 header fields need SMTPUTF8, not just 8BITMIME"
    (mail,) = [c for c in peer.commands() if c["verb"] == "MAIL"]
    assert "SMTPUTF8" not in mail["arg"].upper() and "8BITMIME" not in mail["arg"].upper(), mail
    parsed = email.message_from_bytes(sent["content"], policy=email.policy.default)
    assert "jösé@example.com" in str(parsed["reply-to"]) and parsed["reply-to"].addresses == ()


def test_delete_of_a_deferred_message_cancels_it(gateway, smtp_peer):
    peer = smtp_peer({"rcpt_default": "451 4.3.0 later"})
    node = gateway(env=relay_env(peer, MAILGATE_RETRY_SCHEDULE="1s"))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    node.wait_status(accepted["id"], "deferred")
    response = node.request("DELETE", f"/v1/messages/{accepted['id']}")
    assert response.status == 200, response
    assert response.json()["status"] == "canceled"
    assert {r["status"] for r in response.json()["recipients"]} == {"canceled"}
    attempts_at_cancel = len([c for c in peer.commands() if c["verb"] == "MAIL"])
    time.sleep(2.5)
    message = node.message(accepted["id"])
    assert message["status"] == "canceled"
    assert {r["status"] for r in message["recipients"]} == {"canceled"}
    # A retry could have been on the wire at the moment of the DELETE, never later.
    assert len([c for c in peer.commands() if c["verb"] == "MAIL"]) <= attempts_at_cancel + 1
    assert node.request("DELETE", f"/v1/messages/{accepted['id']}").status == 409


def test_refused_mail_from_or_data_decides_every_recipient(gateway, smtp_peer):
    cases = [({"mail": "550 5.7.1 sender rejected"}, "bounced", 550),
             ({"mail": "451 4.3.0 try later"}, "deferred", 451),
             ({"data": "554 5.5.1 no DATA for you"}, "bounced", 554)]
    for script, status, code in cases:
        peer = smtp_peer(script)
        node = gateway(env=relay_env(peer), name=f"gateway-{peer.port}")
        accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
        message = node.wait_status(accepted["id"], status)
        for recipient in message["recipients"]:
            assert recipient["last_response"]["code"] == code, (script, recipient)
            assert recipient["attempts"] == 1
        assert peer.messages() == []
        node.stop()


def test_message_over_the_peers_size_bounces_before_the_body_is_sent(gateway, smtp_peer):
    peer = smtp_peer({"size": 2000})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "y" * 5000})
    message = node.wait_final(accepted["id"])
    for recipient in message["recipients"]:
        assert recipient["status"] == "bounced"
        assert recipient["last_response"]["code"] == 552 and recipient["last_response"]["enhanced_code"] == "5.3.4"
    assert "DATA" not in [c["verb"] for c in peer.commands()]
    small = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "small"})
    assert node.wait_final(small["id"])["recipients"][0]["status"] == "delivered"
    (sent,) = [c for c in peer.commands() if c["verb"] == "MAIL"]
    assert "SIZE=" in sent["arg"], "SIZE is declared when offered"


def test_helo_when_ehlo_is_refused(gateway, smtp_peer):
    peer = smtp_peer({"ehlo": "502 5.5.2 EHLO not implemented"})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    verbs = [c["verb"] for c in peer.commands()]
    assert verbs[:2] == ["EHLO", "HELO"], verbs
    assert peer.commands()[1]["arg"] == "gateway.test", "MAILGATE_HELO_NAME"


def test_structured_message_is_seven_bit_for_a_peer_without_8bitmime(gateway, smtp_peer):
    peer = smtp_peer({"eightbitmime": False, "smtputf8": False})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "Jörg Ä <joerg@example.com>", "to": {"email": "bob@example.org", "name": "Bøb"},
                          "subject": "Grüße ✓", "text": "Schöne Grüße\n" + "ä" * 1200, "html": "<p>été</p>",
                          "attachments": [{"filename": "naïve.txt", "content": "w6TDtsO8"}]})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    (sent,) = peer.messages()
    assert max(sent["content"]) < 0x80, "7-bit only"
    assert max(len(line) for line in sent["content"].split(b"\r\n")) <= 998
    assert not any("BODY=8BITMIME" in (c["arg"] or "") for c in peer.commands())


def test_raw_eight_bit_body_is_reencoded_for_a_peer_without_8bitmime(gateway, smtp_peer):
    peer = smtp_peer({"eightbitmime": False, "smtputf8": False})
    node = gateway(env=relay_env(peer))
    raw = ("From: Jörg <joerg@example.com>\r\nTo: bob@example.org\r\nSubject: grüße\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "Schöne Grüße 😀\r\n").encode()
    accepted = node.send({"from": "joerg@example.com", "to": "bob@example.org", "raw": base64.b64encode(raw).decode()})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    (sent,) = peer.messages()
    assert max(sent["content"]) < 0x80, "7-bit for a peer without 8BITMIME (SPEC §2)"
    (mail,) = [c for c in peer.commands() if c["verb"] == "MAIL"]
    assert "BODY=8BITMIME" not in mail["arg"].upper()
    parsed = email.message_from_bytes(sent["content"], policy=email.policy.default)
    assert parsed["subject"] == "grüße" and parsed["from"].addresses[0].addr_spec == "joerg@example.com"
    assert parsed.get_content().replace("\r\n", "\n") == "Schöne Grüße 😀\n"


def test_utf8_header_declares_smtputf8_even_for_an_ascii_envelope(gateway, smtp_peer):
    peer = smtp_peer({"smtputf8": True})
    node = gateway(env=relay_env(peer))
    raw = ("From: Jörg <jörg@example.com>\r\nTo: bob@example.org\r\nSubject: ünïcode header\r\n"
           "Message-ID: <utf8-raw@example.com>\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "grüße\r\n").encode()
    accepted = node.send({"from": "joerg@example.com", "to": "bob@example.org", "raw": base64.b64encode(raw).decode()})
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    (mail,) = [c for c in peer.commands() if c["verb"] == "MAIL"]
    assert "SMTPUTF8" in mail["arg"].upper().split(), ("RFC 6531 §3.4: the message has UTF-8 headers", mail)
    (sent,) = peer.messages()
    assert sent["content"] == raw


def test_refused_connection_defers(gateway):
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}"})
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    message = node.wait_status(accepted["id"], "deferred")
    for recipient in message["recipients"]:
        assert recipient["last_response"]["code"] // 100 == 4, recipient
        assert recipient["last_response"]["host"] == "127.0.0.1"


def test_421_in_the_middle_of_a_transaction_defers_everyone_in_it(gateway, smtp_peer):
    peer = smtp_peer({"rcpt": {"b@example.org": "421 4.3.2 shutting down"}})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org", "c@example.org"],
                          "text": "x"})
    message = node.wait_status(accepted["id"], "deferred")
    for recipient in message["recipients"]:
        assert recipient["last_response"]["code"] == 421, recipient
    assert peer.messages() == [], "no DATA after a 421"


def test_pipelined_recipients_all_refused_keep_their_own_replies(gateway, smtp_peer):
    peer = smtp_peer({"pipelining": True, "rcpt_default": "550 5.1.1 nobody here"})
    node = gateway(env=relay_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    message = node.wait_final(accepted["id"])
    for recipient in message["recipients"]:
        assert recipient["status"] == "bounced"
        assert recipient["last_response"]["code"] == 550 and recipient["last_response"]["message"] == "nobody here"
    assert peer.messages() == []


def test_starttls_reply_with_injected_plain_text_is_refused(gateway, smtp_peer, tmp_path):
    cert, key = self_signed_certificate(tmp_path / "certs", "inject.test")
    peer = smtp_peer({"cert": cert, "key": key, "starttls_inject": True})
    node = gateway(env={**QUIET, "MAILGATE_RELAY": f"smtp://127.0.0.1:{peer.port}?tls_verify=false"})
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    message = node.wait_status(accepted["id"], "deferred")
    assert message["recipients"][0]["last_response"]["code"] // 100 == 4
    assert "MAIL" not in [c["verb"] for c in peer.commands()], "CVE-2011-0411: nothing after the injected reply"
