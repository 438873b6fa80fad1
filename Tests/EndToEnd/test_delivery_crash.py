"""At least once, nothing lost (SPEC §3): `kill -9` in the middle of a delivery burst,
then a restart on the same data directory."""

import time
from collections import Counter

from harness import wait_until

CONNECTIONS = 4
RECIPIENTS_PER_MESSAGE = 2
MESSAGES = 200


def pairs_at(messages):
    """(Message-ID, recipient) for every recipient of these transactions at the peer."""
    found = []
    for message in messages:
        header = next(line for line in message["content"].split(b"\r\n") if line.startswith(b"Message-ID:"))
        found += [(header.decode(), rcpt) for rcpt in message["rcpt_tos"]]
    return found


def test_kill_9_during_a_burst_loses_nothing_and_resends_only_what_was_on_the_wire(gateway, smtp_peer):
    # Each end of DATA waits a little, so that transactions are on the wire at the kill.
    peer = smtp_peer({"pipelining": True, "delays": {"DATA_END": 0.05}})
    env = {"MAILGATE_RELAY": f"smtp://127.0.0.1:{peer.port}", "MAILGATE_SMTP_CONNECTIONS": str(CONNECTIONS),
           "MAILGATE_RETRY_SCHEDULE": "1s", "MAILGATE_SMTP_TIMEOUT": "5s"}
    first = gateway(env=env, name="first")
    messages = [{"from": "alice@example.com", "to": [f"m{i}-r{j}@example.org" for j in range(RECIPIENTS_PER_MESSAGE)],
                 "subject": f"burst {i}", "text": f"message {i}"} for i in range(MESSAGES)]
    batch = first.request("POST", "/v1/messages/batch", json_body={"messages": messages})
    assert batch.status == 200, batch
    ids = [result["id"] for result in batch.json()["results"]]
    assert len(ids) == MESSAGES and all(r["status"] == 202 for r in batch.json()["results"])

    wait_until(lambda: len(peer.messages()) >= MESSAGES // 4, timeout=30, what="a quarter of the burst at the peer")
    first.kill9()
    time.sleep(0.3)  # the peer finishes reading what reached it before the kill
    at_kill = peer.messages()
    assert len(at_kill) < MESSAGES, "the kill came before the end of the burst"

    second = gateway(env=env, name="second", workdir=first.workdir)
    for message_id in ids:
        message = second.wait_final(message_id, timeout=60)
        assert {r["status"] for r in message["recipients"]} == {"delivered"}, message

    received = Counter(pairs_at(peer.messages()))
    expected = {(f"Message-ID: <{message_id}@gateway.test>", f"m{i}-r{j}@example.org")
                for i, message_id in enumerate(ids) for j in range(RECIPIENTS_PER_MESSAGE)}
    assert set(received) == expected, "every recipient reached the peer, and nobody else"

    # A connection carries one transaction at a time, so at the kill only the last
    # transaction of each session can have been on the wire. Allow the one before it
    # too: its 250 may have arrived with its outcome not yet committed.
    recent = set()
    for session in {m["session"] for m in at_kill}:
        recent.update(pairs_at([m for m in at_kill if m["session"] == session][-2:]))
    resent = {pair for pair, count in received.items() if count > 1}
    assert all(received[pair] == 2 for pair in resent), "sent again at most once"
    assert resent <= recent, ("sent again without being on the wire", resent - recent)
    assert len(resent) <= 2 * CONNECTIONS * RECIPIENTS_PER_MESSAGE, len(resent)
    assert second.stop() == 0


def test_sigterm_lets_the_transaction_in_flight_finish(gateway, smtp_peer):
    peer = smtp_peer({"delays": {"DATA_END": 2}})
    env = {"MAILGATE_RELAY": f"smtp://127.0.0.1:{peer.port}", "MAILGATE_RETRY_SCHEDULE": "1s",
           "MAILGATE_SMTP_TIMEOUT": "5s"}
    first = gateway(env=env, name="first")
    accepted = first.send({"from": "alice@example.com", "to": ["a@example.org", "b@example.org"], "text": "x"})
    wait_until(lambda: peer.messages(), timeout=10, what="the content at the peer")
    assert first.stop() == 0, "SIGTERM: the transaction ends, then the gateway exits 0"

    second = gateway(env=env, name="second", workdir=first.workdir)
    message = second.wait_final(accepted["id"])
    assert {r["status"] for r in message["recipients"]} == {"delivered"}
    assert {r["attempts"] for r in message["recipients"]} == {1}
    time.sleep(1.5)
    assert len(peer.messages()) == 1, "recorded before exit: not sent again"
