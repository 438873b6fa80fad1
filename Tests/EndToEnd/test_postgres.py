"""Several gateways on one PostgreSQL queue (MAILGATE_DATABASE_URL), as real processes:
they share the work, a replica killed with `kill -9` loses nothing (its claims come back
after their lease), and a database that goes away pauses everything without losing it.

Needs a PostgreSQL server: MAILGATE_TEST_DATABASE_URL (`.ci/postgres start` prints one;
.ci/test sets it). The outage test runs a private cluster of its own, which it stops
and starts, with `.ci/postgres`.
"""

import collections
import json
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import pytest

from harness import REPO, wait_until

SERVER = os.environ.get("MAILGATE_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not SERVER, reason="MAILGATE_TEST_DATABASE_URL is not set (.ci/postgres start makes a server)")

CLUSTER_SCRIPT = REPO / ".ci" / "postgres"
SMTP_CONNECTIONS = 4


def psql(url, query):
    """Runs one query with psql; returns its rows as lists of strings."""
    done = subprocess.run(["psql", "-X", "-At", "-F", "\t", url, "-c", query],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def fresh_database(server):
    """Creates an empty database on `server`; returns its URL."""
    name = "mailgate_e2e_" + uuid.uuid4().hex
    psql(server, f"CREATE DATABASE {name}")
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recipient_counts(url):
    return {status: int(count) for status, count in psql(url, "SELECT status, count(*) FROM recipients GROUP BY status")}


def deliveries_by_gateway(peer):
    """(recipient -> [HELO name of each delivering session]) from the peer's log."""
    helo = {}
    for command in peer.commands():
        if command["verb"] in ("EHLO", "HELO"):
            helo[command["session"]] = command["arg"]
    deliveries = collections.defaultdict(list)
    for message in peer.records():
        if message.get("event") == "message":
            for recipient in message["rcpt_tos"]:
                deliveries[recipient].append(helo.get(message["session"], "?"))
    return deliveries


def replica(gateway, name, database, relay, extra=None):
    env = {
        "MAILGATE_DATABASE_URL": database,
        "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}",
        "MAILGATE_HELO_NAME": f"{name}.test",
        "MAILGATE_SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
        "MAILGATE_LOG_LEVEL": "info",
    }
    env.update(extra or {})
    return gateway(name=name, env=env)


def test_two_gateways_share_the_queue_and_a_killed_one_loses_nothing(gateway, smtp_peer):
    database = fresh_database(SERVER)
    # Each transaction takes a moment at the peer, so that the kill lands mid-delivery.
    relay = smtp_peer({"pipelining": True, "delays": {"DATA_END": 0.03}})
    doomed = replica(gateway, "doomed", database, relay)
    survivor = replica(gateway, "survivor", database, relay)

    count = 2000
    recipients = [f"r{index}@dest.test" for index in range(count)]

    def post(index):
        node = doomed if index % 2 == 0 else survivor
        return node.send({"from": "app@example.com", "to": recipients[index], "subject": f"m{index}", "text": "hello"})["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(post, range(count)))
    assert len(set(ids)) == count

    # Kill one replica once a good part has gone out, both replicas having sent some.
    def under_way():
        by_gateway = collections.Counter(helo for helos in deliveries_by_gateway(relay).values() for helo in helos)
        return by_gateway["doomed.test"] >= 100 and by_gateway["survivor.test"] >= 100 and sum(by_gateway.values()) >= 600
    wait_until(under_way, timeout=60, interval=0.05, what="both replicas delivering")
    doomed.kill9()
    at_kill = recipient_counts(database)
    assert at_kill.get("delivered", 0) < count, "the kill came too late to be mid-delivery"

    # The survivor delivers everything, the dead replica's claims once their lease (45 s) ran out.
    wait_until(lambda: recipient_counts(database).get("delivered") == count, timeout=150, interval=0.5,
               what="every recipient delivered")
    assert recipient_counts(database) == {"delivered": count}
    assert psql(database, "SELECT count(*) FROM messages WHERE status <> 'complete'") == [["0"]]

    deliveries = deliveries_by_gateway(relay)
    assert set(deliveries) == set(recipients), "every recipient reached the peer"
    repeated = {recipient: helos for recipient, helos in deliveries.items() if len(helos) > 1}
    # Sent twice only if the dead replica had it on the wire (or its outcome not yet
    # committed) at the kill: at most a few transactions per SMTP connection.
    assert len(repeated) <= 4 * SMTP_CONNECTIONS, repeated
    assert all(helos.count("doomed.test") >= 1 and len(helos) == 2 for helos in repeated.values()), repeated
    by_gateway = collections.Counter(helo for helos in deliveries.values() for helo in helos)
    assert by_gateway["doomed.test"] >= 100 and by_gateway["survivor.test"] >= 100, by_gateway
    survivor_log = survivor.log_text()
    assert survivor_log.count("recipient delivered") >= count - by_gateway["doomed.test"]
    print(f"deliveries by replica {dict(by_gateway)}, delivered twice {len(repeated)}, at the kill {at_kill}")
    assert survivor.stop() == 0


class PrivateCluster:
    """A PostgreSQL cluster of this test's own, which it may stop and start."""

    def __init__(self):
        done = subprocess.run([str(CLUSTER_SCRIPT), "start"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        self.url = done.stdout.strip()

    def pause(self):
        subprocess.run([str(CLUSTER_SCRIPT), "pause", self.url], check=True, timeout=120)

    def resume(self):
        subprocess.run([str(CLUSTER_SCRIPT), "resume", self.url], check=True, timeout=120)

    def destroy(self):
        subprocess.run([str(CLUSTER_SCRIPT), "stop", self.url], timeout=120)


@pytest.fixture
def private_cluster():
    cluster = PrivateCluster()
    yield cluster
    cluster.destroy()


def test_a_stopped_database_pauses_everything_and_loses_nothing(gateway, smtp_peer, private_cluster):
    database = fresh_database(private_cluster.url)
    relay = smtp_peer({"pipelining": True})
    node = replica(gateway, "node", database, relay)

    delivered_before = [node.send({"from": "app@example.com", "to": f"early{i}@dest.test", "subject": "early", "text": "x"})["id"]
                        for i in range(5)]
    for message_id in delivered_before:
        node.wait_final(message_id)
    # Due a few seconds from now: in the queue, not yet sent, when the database stops.
    send_at = (datetime.now(timezone.utc) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    waiting = [node.send({"from": "app@example.com", "to": f"late{i}@dest.test", "subject": "late", "text": "x",
                          "send_at": send_at})["id"] for i in range(10)]

    private_cluster.pause()
    refused = node.request("POST", "/v1/messages", json_body={"from": "app@example.com", "to": "x@dest.test", "text": "x"})
    assert refused.status == 503, refused
    assert refused.header("Retry-After"), refused.headers
    ready = node.request("GET", "/readyz")
    assert ready.status == 503, ready
    assert node.request("GET", f"/v1/messages/{waiting[0]}").status == 503
    # Past send_at, nothing is sent while the queue cannot be read or written.
    time.sleep(6)
    assert not any(r.startswith("late") for r in deliveries_by_gateway(relay))
    assert node.request("GET", "/healthz").status == 200, "the process itself stays up"

    private_cluster.resume()
    wait_until(lambda: node.request("GET", "/readyz").status == 200, timeout=30, what="/readyz 200 again")
    after = node.send({"from": "app@example.com", "to": "after@dest.test", "subject": "after", "text": "x"})["id"]
    for message_id in waiting + [after]:
        assert {r["status"] for r in node.wait_final(message_id, timeout=60)["recipients"]} == {"delivered"}
    deliveries = deliveries_by_gateway(relay)
    expected = {f"early{i}@dest.test" for i in range(5)} | {f"late{i}@dest.test" for i in range(10)} | {"after@dest.test"}
    assert set(deliveries) == expected
    assert all(len(helos) == 1 for helos in deliveries.values()), deliveries
    log = node.log_text()
    assert "store unavailable" in log
    # `mailgate queue` works on the shared queue too (MAILGATE_DATABASE_URL in its environment).
    shown = node.cli("queue", "show", after)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "complete"
    listed = node.cli("queue", "list", "--status", "complete", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {m["id"] for m in json.loads(listed.stdout)} == set(delivered_before + waiting + [after])
    assert node.stop() == 0
