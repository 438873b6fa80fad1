"""Edges of the send API that clients hit under load or across restarts:
idempotency races and scope, size limits on streamed bodies, queue-limit arithmetic."""

import json
import socket
import threading

import pytest

from harness import assert_problem, free_port

MESSAGE = {"from": "alice@example.com", "to": "bob@example.org", "subject": "Hello", "text": "plain body"}


def closed_relay():
    return {"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s"}


def listed_ids(node):
    response = node.request("GET", "/v1/messages?limit=500")
    assert response.status == 200
    return [m["id"] for m in response.json()["messages"]]


def raw_exchange(port, head, body=b"", read_first=False):
    """Sends `head` (and `body`, unless the answer comes first) on a fresh socket; returns
    the status code and the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        if read_first:
            answer = connection.recv(65536)
        else:
            try:
                connection.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = b""
            try:
                while b"\r\n\r\n" not in answer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            except ConnectionResetError:
                pass
    return int(answer.split(b" ", 2)[1]), answer


# -- idempotency


def test_concurrent_requests_with_one_key_create_one_message(gateway):
    node = gateway(env=closed_relay())
    body = json.dumps(dict(MESSAGE, subject="raced")).encode()
    answers = []

    def client():
        answers.append(node.request("POST", "/v1/messages", body=body,
                                    headers={"Content-Type": "application/json", "Idempotency-Key": "race-1"}))
    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 8
    assert {a.status for a in answers} == {202}, answers
    assert len({a.body for a in answers}) == 1, "every caller sees the first answer"
    assert sum(a.header("Idempotent-Replayed") == "true" for a in answers) == 7
    assert listed_ids(node) == [answers[0].json()["id"]]


def test_idempotency_keys_belong_to_the_api_key_that_used_them(gateway):
    node = gateway(api_key="key-one", env=dict(closed_relay(), MAILGATE_API_KEYS="key-one,key-two"))
    first = node.request("POST", "/v1/messages", json_body=MESSAGE,
                         headers={"Authorization": "Bearer key-one", "Idempotency-Key": "shared"})
    other = node.request("POST", "/v1/messages", json_body=dict(MESSAGE, subject="other caller"),
                         headers={"Authorization": "Bearer key-two", "Idempotency-Key": "shared"})
    assert first.status == 202 and other.status == 202, (first, other)
    assert other.header("Idempotent-Replayed") is None and other.json()["id"] != first.json()["id"]


def test_replay_survives_a_restart(gateway):
    node = gateway(env=closed_relay())
    body = json.dumps(MESSAGE).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "across-restart"}
    first = node.request("POST", "/v1/messages", body=body, headers=headers)
    assert first.status == 202
    assert node.stop() == 0
    node.start()
    replay = node.request("POST", "/v1/messages", body=body, headers=headers)
    assert replay.status == 202 and replay.body == first.body and replay.header("Idempotent-Replayed") == "true"
    assert_problem(node.request("POST", "/v1/messages", body=body + b" ", headers=headers), 409)
    assert len(listed_ids(node)) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_malformed_idempotency_keys_are_refused(gateway, key):
    node = gateway(env=closed_relay())
    response = node.request("POST", "/v1/messages", json_body=MESSAGE, headers={"Idempotency-Key": key})
    assert response.status in (400, 422), response
    assert_problem(response, response.status)
    assert listed_ids(node) == []


# -- size limits on streamed bodies


@pytest.fixture
def small(gateway):
    return gateway(env=dict(closed_relay(), MAILGATE_MAX_MESSAGE_SIZE="64KiB"))


def test_declared_oversize_body_is_413_before_it_is_sent(small):
    head = (b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
    status, answer = raw_exchange(small.port, head, read_first=True)
    assert status == 413, answer
    assert b"application/problem+json" in answer


def test_chunked_body_over_the_limit_is_413(small):
    head = b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"a" * 16384
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    status, answer = raw_exchange(small.port, head, body)
    assert status == 413, answer
    assert listed_ids(small) == []


def test_chunked_body_under_the_limit_is_accepted(small):
    payload = json.dumps(MESSAGE).encode()
    head = b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, payload[:10], len(payload) - 10, payload[10:])
    status, answer = raw_exchange(small.port, head, body)
    assert status == 202, answer


# -- queue limit arithmetic


def test_queue_limit_counts_recipients_not_messages(gateway):
    node = gateway(env=dict(closed_relay(), MAILGATE_QUEUE_LIMIT="3"))
    node.send(dict(MESSAGE, to=["a@example.org", "b@example.org"]))
    assert_problem(node.request("POST", "/v1/messages", json_body=dict(MESSAGE, to=["c@example.org", "d@example.org"])), 429)
    batch = node.request("POST", "/v1/messages/batch", json_body={"messages": [MESSAGE, MESSAGE]})
    # One place is left for two messages: each item is accepted or refused on its own.
    assert batch.status == 200, batch
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [202, 429]
    assert results[1]["error"]["status"] == 429
    assert int(batch.header("Retry-After")) > 0, "when to try the refused item again"
    assert_problem(node.request("POST", "/v1/messages", json_body=MESSAGE), 429)
    full = node.request("POST", "/v1/messages/batch", json_body={"messages": [MESSAGE]})
    assert full.status == 200 and [r["status"] for r in full.json()["results"]] == [429], "refused item by item, even all"
    assert sum(len(node.message(i)["recipients"]) for i in listed_ids(node)) == 3
