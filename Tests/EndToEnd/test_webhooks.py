"""Webhooks end to end (SPEC §4, §6): outcomes at the SMTP peer become signed events
at the receiver, retried, dropped, kept across restarts, listed with the message,
and never sent to private addresses unless allowed."""

import base64
import json
import os
import re
import subprocess
import time

from harness import BINARY, PeerProcess, free_port, wait_until

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
EVENT_KEYS = {"id", "type", "created_at", "message_id", "recipient", "attempt", "smtp", "tags", "metadata"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def gateway_env(peer, hooks_url=None, **extra):
    env = {"MAILGATE_RELAY": f"smtp://127.0.0.1:{peer.port}", "MAILGATE_RETRY_SCHEDULE": "10m",
           "MAILGATE_SMTP_TIMEOUT": "5s", "MAILGATE_WEBHOOK_ALLOW_PRIVATE": "true",
           "MAILGATE_WEBHOOK_RETRY_SCHEDULE": "200ms,200ms,200ms"}
    if hooks_url:
        env["MAILGATE_WEBHOOK_URL"] = hooks_url
    env.update(extra)
    return env


def posts(receiver, count, timeout=15):
    """Waits for at least `count` requests; returns them with their bodies parsed."""
    found = wait_until(lambda: len(receiver.requests()) >= count and receiver.requests(), timeout=timeout,
                       what=f"{count} webhook posts")
    for request in found:
        request["event"] = json.loads(request["body"])
    return found


def events_of(node, message_id):
    return {event["id"]: event for event in node.message(message_id)["events"]}


def wait_webhook_status(node, message_id, status, timeout=15):
    def reached():
        events = node.message(message_id)["events"]
        return events if events and all(e["webhook"]["status"] == status for e in events) else None
    return wait_until(reached, timeout=timeout, what=f"webhook status {status}")


def test_signed_events_carry_the_spec_headers_and_payload(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({"rcpt": {"soft@example.org": "451 4.2.0 busy", "hard@example.org": "550 5.1.1 unknown user"}})
    hooks = webhook_receiver(secret=SECRET)
    node = gateway(env=gateway_env(peer, hooks.url, MAILGATE_WEBHOOK_SECRET=SECRET))
    accepted = node.send({"from": "alice@example.com",
                          "to": ["ok@example.org", "soft@example.org", "hard@example.org"],
                          "subject": "hooks", "text": "x", "tags": ["receipt", "eu"],
                          "metadata": {"order": "1234", "n": 7}})
    started = time.time()
    received = posts(hooks, 3)
    assert len(received) == 3
    by_recipient = {r["event"]["recipient"]: r for r in received}
    assert {r: p["event"]["type"] for r, p in by_recipient.items()} == {
        "ok@example.org": "delivered", "soft@example.org": "deferred", "hard@example.org": "bounced"}

    for request in received:
        event, headers = request["event"], request["headers"]
        assert request["method"] == "POST" and request["path"] == "/hooks/mail"
        assert request["signature"] == "valid", request["signature"]
        assert headers["webhook-id"] == event["id"] and event["id"].startswith("evt_")
        assert abs(int(headers["webhook-timestamp"]) - started) < 60
        assert headers["webhook-signature"].startswith("v1,")
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"] == "mailgate/0.1.0"
        assert set(event) == EVENT_KEYS, set(event) ^ EVENT_KEYS
        assert RFC3339.match(event["created_at"]), event["created_at"]
        assert event["message_id"] == accepted["id"]
        assert event["attempt"] == 1
        assert event["tags"] == ["receipt", "eu"]
        assert event["metadata"] == {"order": "1234", "n": 7}
        assert set(event["smtp"]) == {"code", "enhanced_code", "message", "host"}
        assert event["smtp"]["host"] == "127.0.0.1"

    assert by_recipient["ok@example.org"]["event"]["smtp"] == {
        "code": 250, "enhanced_code": "2.0.0", "message": "OK queued", "host": "127.0.0.1"}
    assert by_recipient["soft@example.org"]["event"]["smtp"] == {
        "code": 451, "enhanced_code": "4.2.0", "message": "busy", "host": "127.0.0.1"}
    assert by_recipient["hard@example.org"]["event"]["smtp"] == {
        "code": 550, "enhanced_code": "5.1.1", "message": "unknown user", "host": "127.0.0.1"}

    events = wait_webhook_status(node, accepted["id"], "delivered")
    assert {e["id"] for e in events} == {r["event"]["id"] for r in received}
    for event in events:
        assert event["webhook"] == {"status": "delivered", "attempts": 1}
        assert event["recipient"] == next(r["event"]["recipient"] for r in received if r["event"]["id"] == event["id"])
        assert set(event) >= {"id", "type", "created_at", "recipient", "webhook"}


def test_message_webhook_url_beats_the_default(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    default, own = webhook_receiver(), webhook_receiver()
    node = gateway(env=gateway_env(peer, default.url))
    with_own = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x", "webhook_url": own.url})
    without = node.send({"from": "alice@example.com", "to": "b@example.org", "text": "x"})
    (to_own,) = posts(own, 1)
    (to_default,) = posts(default, 1)
    assert to_own["event"]["message_id"] == with_own["id"]
    assert to_default["event"]["message_id"] == without["id"]
    time.sleep(0.3)
    assert len(own.requests()) == 1 and len(default.requests()) == 1


def test_no_webhook_anywhere_lists_events_as_none(gateway, smtp_peer):
    peer = smtp_peer({})
    node = gateway(env=gateway_env(peer))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    node.wait_final(accepted["id"])
    (event,) = wait_until(lambda: node.message(accepted["id"])["events"], what="the delivered event")
    assert event["type"] == "delivered"
    assert event["webhook"] == {"status": "none", "attempts": 0}


def test_deferred_is_posted_only_for_the_first_failed_attempt(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({"rcpt_default": "451 4.7.1 greylisted"})
    hooks = webhook_receiver()
    node = gateway(env=gateway_env(peer, hooks.url, MAILGATE_RETRY_SCHEDULE="300ms"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    wait_until(lambda: node.message(accepted["id"])["recipients"][0]["attempts"] >= 3, timeout=15,
               what="three attempts")
    time.sleep(0.5)
    received = posts(hooks, 1)
    assert [r["event"]["type"] for r in received] == ["deferred"], [r["event"] for r in received]
    assert received[0]["event"]["attempt"] == 1
    assert len(node.message(accepted["id"])["events"]) == 1


def test_500_500_200_is_three_posts_of_one_event(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    hooks = webhook_receiver({"sequence": [{"status": 500}, {"status": 500}], "default": {"status": 200}}, secret=SECRET)
    node = gateway(env=gateway_env(peer, hooks.url, MAILGATE_WEBHOOK_SECRET=SECRET))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    received = posts(hooks, 3)
    assert len({r["headers"]["webhook-id"] for r in received}) == 1
    assert len({r["body"] for r in received}) == 1, "every retry carries the same payload"
    assert all(r["signature"] == "valid" for r in received)
    (event,) = wait_webhook_status(node, accepted["id"], "delivered")
    assert event["webhook"]["attempts"] == 3
    time.sleep(0.6)
    assert len(hooks.requests()) == 3, "2xx ends it"


def test_410_drops_the_event_after_one_post(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    hooks = webhook_receiver({"default": {"status": 410}})
    node = gateway(env=gateway_env(peer, hooks.url))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    (event,) = wait_webhook_status(node, accepted["id"], "dropped")
    assert event["webhook"]["attempts"] == 1
    time.sleep(0.8)
    assert len(hooks.requests()) == 1


def test_receiver_down_across_a_restart_gets_the_event_when_it_returns(gateway, smtp_peer, processes, tmp_path):
    peer = smtp_peer({})
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/mail"
    env = gateway_env(peer, url, MAILGATE_WEBHOOK_RETRY_SCHEDULE="300ms,500ms,500ms,500ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s")
    first = gateway(env=env, name="first")
    accepted = first.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    first.wait_final(accepted["id"])
    wait_until(lambda: (lambda e: e and e[0]["webhook"]["attempts"] >= 2 and e)(first.message(accepted["id"])["events"]),
               timeout=10, what="failed POSTs")
    (event,) = first.message(accepted["id"])["events"]
    assert event["webhook"]["status"] == "pending"
    assert first.stop() == 0

    script = tmp_path / "late-receiver.json"
    script.write_text("{}")
    receiver = PeerProcess("webhook_receiver.py", [str(script), "--host", "127.0.0.1", "--port", str(port)], tmp_path)
    processes.append(receiver)
    second = gateway(env=env, name="second", workdir=first.workdir)
    (delivered,) = wait_webhook_status(second, accepted["id"], "delivered", timeout=20)
    assert delivered["id"] == event["id"]
    requests = receiver.records()
    assert [r["headers"]["webhook-id"] for r in requests] == [event["id"]]
    assert json.loads(requests[0]["body"])["type"] == "delivered"


def test_host_name_resolving_to_loopback_is_dropped_but_mail_is_delivered(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    hooks = webhook_receiver()
    node = gateway(env=gateway_env(peer, MAILGATE_WEBHOOK_ALLOW_PRIVATE="false"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x",
                          "webhook_url": f"http://localhost:{hooks.port}/hooks/mail"})
    message = node.wait_final(accepted["id"])
    assert message["recipients"][0]["status"] == "delivered", "the guard never stops the mail"
    assert len(peer.messages()) == 1
    (event,) = wait_webhook_status(node, accepted["id"], "dropped")
    assert event["webhook"]["attempts"] == 0, "dropped at once, without a POST"
    time.sleep(0.8)
    assert hooks.requests() == []
    log = wait_until(lambda: [line for line in node.log_text().splitlines() if event["id"] in line],
                     timeout=5, what="a log line naming the event")
    assert any("loopback" in line or "private" in line or "refused" in line for line in log), log


def test_private_ip_literal_webhook_urls_are_refused_at_submit(gateway, smtp_peer):
    peer = smtp_peer({})
    node = gateway(env=gateway_env(peer, MAILGATE_WEBHOOK_ALLOW_PRIVATE="false"))
    for url in ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "https://192.168.0.1/hook",
                "http://169.254.169.254/latest/meta-data", "http://[::1]:9000/hook",
                "http://[::ffff:127.0.0.1]/hook", "http://[fd00::1]/hook", "ftp://example.com/hook"]:
        response = node.request("POST", "/v1/messages", json_body={
            "from": "alice@example.com", "to": "a@example.org", "text": "x", "webhook_url": url})
        assert response.status == 422, (url, response)
        assert response.header("Content-Type").startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == ["webhook_url"], (url, response.json())
    allowed = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x",
                         "webhook_url": "https://hooks.example.com/mail"})
    assert allowed["status"] == "queued"


def test_private_ip_literal_default_webhook_url_stops_the_gateway_at_start(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MAILGATE_DATA_DIR": str(tmp_path / "data"),
           "MAILGATE_LISTEN": f"127.0.0.1:{free_port()}", "MAILGATE_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    result = subprocess.run([BINARY, "serve"], env=env, capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert "MAILGATE_WEBHOOK_URL" in result.stderr + result.stdout


def test_slow_receiver_times_out_and_is_retried(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    hooks = webhook_receiver({"sequence": [{"delay": 3}], "default": {"status": 200}})
    node = gateway(env=gateway_env(peer, hooks.url, MAILGATE_WEBHOOK_TIMEOUT="500ms"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    (event,) = wait_webhook_status(node, accepted["id"], "delivered", timeout=15)
    assert event["webhook"]["attempts"] == 2
    received = posts(hooks, 2)
    assert len({r["headers"]["webhook-id"] for r in received}) == 1


def test_redirects_are_not_followed(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    target = webhook_receiver()
    redirecting = webhook_receiver({"default": {"status": 307, "headers": {"Location": target.url}}})
    node = gateway(env=gateway_env(peer, redirecting.url))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    posts(redirecting, 2)
    (event,) = node.message(accepted["id"])["events"]
    assert event["webhook"]["status"] in ("pending", "dropped"), "a 3xx is not a success"
    assert target.requests() == []


def test_event_is_dropped_and_logged_after_the_last_retry(gateway, smtp_peer, webhook_receiver):
    peer = smtp_peer({})
    hooks = webhook_receiver({"default": {"status": 503}})
    node = gateway(env=gateway_env(peer, hooks.url, MAILGATE_WEBHOOK_RETRY_SCHEDULE="100ms,100ms"))
    accepted = node.send({"from": "alice@example.com", "to": "a@example.org", "text": "x"})
    (event,) = wait_webhook_status(node, accepted["id"], "dropped")
    assert event["webhook"]["attempts"] == 3, "the first POST and one per entry of the schedule"
    time.sleep(0.5)
    assert len(hooks.requests()) == 3
    assert any(event["id"] in line and "dropped" in line for line in node.log_text().splitlines())
