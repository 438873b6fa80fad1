"""Nothing answered with 202 is ever lost (SPEC §2 "stored durably (fsync'd) before
this is sent", §3), and one data directory belongs to one gateway at a time."""

import http.client
import json
import subprocess
import threading
import time

from harness import free_port, wait_until

CLIENTS = 8
RECIPIENTS = 3
KILL_AFTER = 1.5   # seconds of the burst before kill -9
BURST_LIMIT = 4.0  # every client stops by then, whatever happens


def burst_client(port, number, stop, accepted, failures):
    """POSTs messages on one keep-alive connection until stopped or the connection dies;
    records every id answered with 202 and the recipients it was sent with."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    deadline = time.monotonic() + BURST_LIMIT
    sequence = 0
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            recipients = [f"c{number}-m{sequence}-r{k}@example.org" for k in range(RECIPIENTS)]
            body = json.dumps({"from": "load@example.com", "to": recipients[:2], "bcc": recipients[2],
                               "subject": f"burst {number}/{sequence}", "text": "durable " * 40}).encode()
            connection.request("POST", "/v1/messages", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if response.status == 202:
                accepted.append((json.loads(answer)["id"], recipients))
            else:
                failures.append(f"{response.status} {answer[:200]!r}")
            sequence += 1
    except (OSError, http.client.HTTPException) as error:
        failures.append(f"client {number}: {type(error).__name__}")
    finally:
        connection.close()


def test_every_202_survives_kill_9_during_a_burst(gateway):
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s",
                        "MAILGATE_LOG_LEVEL": "warning"})
    stop = threading.Event()
    accepted, failures = [], []
    clients = [threading.Thread(target=burst_client, args=(node.port, n, stop, accepted, failures)) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    wait_until(lambda: len(accepted) >= 50, timeout=10, what="the burst to get going")
    time.sleep(KILL_AFTER)
    node.kill9()
    stop.set()
    for client in clients:
        client.join(timeout=10)
    assert not any(client.is_alive() for client in clients)
    assert any("client" in failure for failure in failures), "the kill cut requests in flight"
    assert all(failure.startswith("client") for failure in failures), failures[:5]

    node.start()
    missing = []
    for message_id, recipients in accepted:
        response = node.request("GET", f"/v1/messages/{message_id}")
        if response.status != 200:
            missing.append(message_id)
            continue
        stored = response.json()
        assert sorted(r["email"] for r in stored["recipients"]) == sorted(recipients), stored
        assert all(r["status"] in {"queued", "deferred"} for r in stored["recipients"]), stored
    assert not missing, f"{len(missing)} of {len(accepted)} accepted messages were lost, e.g. {missing[:3]}"


def test_a_second_gateway_on_the_same_data_directory_is_refused(gateway):
    first = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}"})
    kept = first.send({"from": "a@example.com", "to": "b@example.org", "text": "kept"})
    second = gateway(start=False, name="second", env={
        "MAILGATE_DATA_DIR": first.env["MAILGATE_DATA_DIR"], "MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}"})
    second.start(wait=False)
    try:
        status = second.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError("the second gateway kept running on a directory already in use")
    assert status != 0
    log = second.log_text()
    assert "MAILGATE_DATA_DIR" in log, log
    assert any(word in log.lower() for word in ("lock", "in use", "another")), log
    errors = [line for line in log.splitlines() if "MAILGATE_DATA_DIR" in line]
    assert len(errors) >= 1

    assert first.request("GET", "/readyz").status == 200, "the first gateway is unharmed"
    assert first.message(kept["id"])["id"] == kept["id"]
    assert first.stop() == 0
    second.start()
    assert second.message(kept["id"])["id"] == kept["id"], "once the first stopped, the directory is free"
