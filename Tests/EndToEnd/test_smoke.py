"""The shortest path through the product: accept, deliver through a relay, report."""

from harness import wait_until


def test_message_is_accepted_delivered_and_reported(gateway, smtp_peer, webhook_receiver):
    relay = smtp_peer({"pipelining": True})
    hooks = webhook_receiver()
    node = gateway(env={
        "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}",
        "MAILGATE_WEBHOOK_URL": hooks.url,
        "MAILGATE_WEBHOOK_ALLOW_PRIVATE": "true",
    })
    accepted = node.send({
        "from": "Alice <alice@example.com>",
        "to": ["bob@example.org", {"email": "carol@example.net", "name": "Carol Ä"}],
        "bcc": "audit@example.com",
        "subject": "Your order ✓",
        "text": "plain body",
    })
    assert accepted["status"] == "queued"
    assert [r["email"] for r in accepted["recipients"]] == ["bob@example.org", "carol@example.net", "audit@example.com"]

    message = node.wait_final(accepted["id"])
    assert {r["status"] for r in message["recipients"]} == {"delivered"}
    received = relay.messages()
    assert len(received) == 1, "one transaction carries every recipient"
    assert sorted(received[0]["rcpt_tos"]) == ["audit@example.com", "bob@example.org", "carol@example.net"]
    content = received[0]["content"]
    assert b"Message-ID: <" + accepted["id"].encode() + b"@gateway.test>" in content
    assert b"audit@example.com" not in content, "Bcc never shows"

    posts = wait_until(lambda: len(hooks.requests()) >= 3 and hooks.requests(), what="three delivered events")
    assert {p["headers"]["webhook-id"] for p in posts} == {e["id"] for e in node.message(accepted["id"])["events"]}
    assert node.stop() == 0
