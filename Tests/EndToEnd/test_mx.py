"""MX mode (SPEC §3, §6 "MX mode"): no relay; the scriptable DNS server answers for
test domains whose mail hosts are SMTP peers on 127.0.0.x, all on MAILGATE_MX_PORT."""

import select
import socket
import threading
import time

import pytest

from harness import free_port, wait_until
from postfix import self_signed_certificate

DEAD = "127.0.0.3"  # nothing listens here: connections are refused
TLS_HOST = "127.0.0.4"  # a peer offering STARTTLS on a self-signed certificate
BROKEN_TLS_HOST = "127.0.0.5"  # a proxy whose STARTTLS handshake always fails

ZONE = {
    "a.test": {"MX": [[10, "mx1.a.test"]]},
    "mx1.a.test": {"A": ["127.0.0.1"]},
    "b.test": {"MX": [[10, "mx2.b.test"]]},
    "mx2.b.test": {"A": ["127.0.0.2"]},
    # Listed out of order: the lower preference (the dead host) must be tried first.
    "fallback.test": {"MX": [[20, "live.fallback.test"], [10, "dead.fallback.test"]]},
    "dead.fallback.test": {"A": [DEAD]},
    "live.fallback.test": {"A": ["127.0.0.2"]},
    "preferred.test": {"MX": [[30, "mx2.b.test"], [5, "mx1.a.test"]]},
    "plain-a.test": {"A": ["127.0.0.2"]},
    "null.test": {"MX": [[0, "."]]},
    "servfail.test": {"rcode": "SERVFAIL"},
    # Its one mail host does not exist (NXDOMAIN); and a domain with no MX, A or AAAA.
    "hostless.test": {"MX": [[10, "gone.hostless.test"]]},
    "nodata.test": {},
    "silent.test": {"drop": True},
    "silent2.test": {"drop": True},
    "silent3.test": {"drop": True},
    "tls.test": {"MX": [[10, "mx.tls.test"]]},
    "mx.tls.test": {"A": [TLS_HOST]},
    "broken-tls.test": {"MX": [[10, "mx.broken-tls.test"]]},
    "mx.broken-tls.test": {"A": [BROKEN_TLS_HOST]},
}


def common_port(hosts):
    """A port free on every one of `hosts`."""
    for _ in range(50):
        port = free_port()
        try:
            for host in hosts:
                with socket.socket() as probe:
                    probe.bind((host, port))
            return port
        except OSError:
            continue
    raise AssertionError("no port free on every address")


class MXWorld:
    """The DNS server, peers mx1 (127.0.0.1) and mx2 (127.0.0.2) on one port, and a
    gateway in MX mode pointed at them."""

    def __init__(self, gateway, smtp_peer, dns_server, extra_hosts=(), env=None):
        self.port = common_port(["127.0.0.1", "127.0.0.2", DEAD, *extra_hosts])
        self.dns = dns_server(ZONE)
        self.mx1 = smtp_peer({"hostname": "mx1.a.test"}, host="127.0.0.1", port=self.port)
        self.mx2 = smtp_peer({"hostname": "mx2.b.test"}, host="127.0.0.2", port=self.port)
        self.make_gateway = lambda: gateway(env={
            "MAILGATE_DNS_SERVER": self.dns.address, "MAILGATE_MX_PORT": str(self.port),
            "MAILGATE_RETRY_SCHEDULE": "10m", "MAILGATE_SMTP_TIMEOUT": "5s", **(env or {})})

    def start(self):
        self.node = self.make_gateway()
        return self


@pytest.fixture
def mx(gateway, smtp_peer, dns_server):
    return MXWorld(gateway, smtp_peer, dns_server).start()


def by_email(message):
    return {r["email"]: r for r in message["recipients"]}


def test_one_transaction_per_domain_each_at_its_mx(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": ["x@a.test", "y@a.test", "z@b.test"],
                             "subject": "two domains", "text": "x"})
    message = mx.node.wait_final(accepted["id"])
    recipients = by_email(message)
    for email, host in (("x@a.test", "mx1.a.test"), ("y@a.test", "mx1.a.test"), ("z@b.test", "mx2.b.test")):
        assert recipients[email]["status"] == "delivered", recipients[email]
        assert recipients[email]["attempts"] == 1
        assert recipients[email]["last_response"]["host"] == host
        assert recipients[email]["last_response"]["code"] == 250
    (at_mx1,) = mx.mx1.messages()
    (at_mx2,) = mx.mx2.messages()
    assert sorted(at_mx1["rcpt_tos"]) == ["x@a.test", "y@a.test"]
    assert at_mx2["rcpt_tos"] == ["z@b.test"]
    assert at_mx1["content"] == at_mx2["content"]


def test_lowest_preference_first_and_fallback_past_a_dead_mx(mx):
    fallback = mx.node.send({"from": "alice@example.com", "to": "f@fallback.test", "text": "x"})
    message = mx.node.wait_final(fallback["id"])
    recipient = message["recipients"][0]
    assert recipient["status"] == "delivered", recipient
    assert recipient["last_response"]["host"] == "live.fallback.test"
    assert [m["rcpt_tos"] for m in mx.mx2.messages()] == [["f@fallback.test"]]
    queried = [r["name"] for r in mx.dns.records()]
    assert queried.index("dead.fallback.test") < queried.index("live.fallback.test"), queried

    preferred = mx.node.send({"from": "alice@example.com", "to": "p@preferred.test", "text": "x"})
    recipient = mx.node.wait_final(preferred["id"])["recipients"][0]
    assert recipient["status"] == "delivered"
    assert recipient["last_response"]["host"] == "mx1.a.test", "preference 5 beats 30"
    assert [m["rcpt_tos"] for m in mx.mx1.messages()] == [["p@preferred.test"]]


def test_domain_without_mx_gets_mail_at_its_a_record(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": "a@plain-a.test", "text": "x"})
    recipient = mx.node.wait_final(accepted["id"])["recipients"][0]
    assert recipient["status"] == "delivered", recipient
    assert recipient["last_response"]["host"] == "plain-a.test"
    assert [m["rcpt_tos"] for m in mx.mx2.messages()] == [["a@plain-a.test"]]


def test_null_mx_and_nxdomain_bounce_at_once_without_connecting(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": ["n@null.test", "n@nowhere.test"], "text": "x"})
    message = mx.node.wait_final(accepted["id"])
    for recipient in message["recipients"]:
        assert recipient["status"] == "bounced", recipient
        assert recipient["attempts"] == 0
        assert recipient["last_response"]["code"] // 100 == 5
        assert recipient["last_response"]["enhanced_code"] == "5.1.2", recipient
    assert mx.mx1.connections() == [] and mx.mx2.connections() == []


def test_mail_hosts_without_any_address_bounce_at_once(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": ["h@hostless.test", "n@nodata.test"], "text": "x"})
    message = mx.node.wait_final(accepted["id"])
    for recipient in message["recipients"]:
        assert recipient["status"] == "bounced", recipient
        assert recipient["attempts"] == 0
        assert (recipient["last_response"]["code"], recipient["last_response"]["enhanced_code"]) == (550, "5.4.4"), recipient
    assert mx.mx1.connections() == [] and mx.mx2.connections() == []


def test_servfail_and_a_silent_dns_defer(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": ["s@servfail.test", "q@silent.test"], "text": "x"})
    # The silent server costs the resolver's whole timeout (a few seconds).
    message = mx.node.wait_status(accepted["id"], "deferred", timeout=40)
    for recipient in message["recipients"]:
        assert recipient["last_response"]["code"] // 100 == 4, recipient
        assert recipient["next_attempt_at"]
        assert recipient["attempts"] == 0, f"decided without connecting, not an attempt (SPEC §6): {recipient}"
    assert mx.mx1.connections() == [] and mx.mx2.connections() == []


class TLSBreakingProxy:
    """Forwards SMTP to a backend, except that once the client asks for STARTTLS and
    the backend says 220, it answers the client's TLS hello with bytes that are not
    TLS and hangs up: a handshake that always fails."""

    def __init__(self, host, port, backend_port):
        self.backend = ("127.0.0.1", backend_port)
        self.listener = socket.create_server((host, port))
        self.connections = 0
        self.broken = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        server = socket.create_connection(self.backend)
        state = "plain"
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 10)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client:
                        if state == "broken":
                            client.sendall(b"this is no TLS record\r\n" * 8)
                            self.broken += 1
                            return
                        if data.upper().startswith(b"STARTTLS"):
                            state = "starttls"
                        server.sendall(data)
                    else:
                        client.sendall(data)
                        if state == "starttls" and data.startswith(b"220"):
                            state = "broken"
        except OSError:
            return
        finally:
            client.close()
            server.close()


def test_opportunistic_starttls_and_plain_text_after_a_failed_handshake(gateway, smtp_peer, dns_server, tmp_path):
    world = MXWorld(gateway, smtp_peer, dns_server, extra_hosts=[TLS_HOST, BROKEN_TLS_HOST])
    cert, key = self_signed_certificate(tmp_path / "certs", "mx.tls.test")
    tls_peer = smtp_peer({"hostname": "mx.tls.test", "cert": cert, "key": key}, host=TLS_HOST, port=world.port)
    backend = smtp_peer({"hostname": "mx.broken-tls.test", "cert": cert, "key": key})
    proxy = TLSBreakingProxy(BROKEN_TLS_HOST, world.port, backend.port)
    try:
        world.start()
        accepted = world.node.send({"from": "alice@example.com", "to": ["t@tls.test", "b@broken-tls.test"],
                                    "subject": "tls", "text": "x"})
        message = world.node.wait_final(accepted["id"], timeout=30)
        recipients = by_email(message)
        assert recipients["t@tls.test"]["status"] == "delivered", recipients
        assert recipients["t@tls.test"]["last_response"]["host"] == "mx.tls.test"
        (over_tls,) = tls_peer.messages()
        assert over_tls["tls"] is True, "STARTTLS offered: used, self-signed or not"

        assert recipients["b@broken-tls.test"]["status"] == "delivered", recipients
        assert recipients["b@broken-tls.test"]["attempts"] == 1, "the plain retry is part of the same attempt"
        assert recipients["b@broken-tls.test"]["last_response"]["host"] == "mx.broken-tls.test"
        assert proxy.broken == 1 and proxy.connections == 2, (proxy.broken, proxy.connections)
        (in_plain,) = backend.messages()
        assert in_plain["tls"] is False and in_plain["rcpt_tos"] == ["b@broken-tls.test"]
        assert not any(c["verb"] == "STARTTLS" for c in backend.commands() if c["session"] == in_plain["session"])
    finally:
        proxy.close()


def test_utf8_address_in_the_header_declares_smtputf8_at_every_domain(mx):
    accepted = mx.node.send({"from": "alice@example.com", "to": ["jörg@a.test", "bob@b.test"], "text": "x"})
    message = mx.node.wait_final(accepted["id"])
    assert {r["status"] for r in message["recipients"]} == {"delivered"}, message
    for peer, rcpt in ((mx.mx1, "jörg@a.test"), (mx.mx2, "bob@b.test")):
        (mail,) = [c for c in peer.commands() if c["verb"] == "MAIL"]
        assert "SMTPUTF8" in mail["arg"].upper().split(), (rcpt, mail["arg"])
        (sent,) = peer.messages()
        assert sent["rcpt_tos"] == [rcpt]
        assert "jörg@a.test".encode() in sent["content"], "the To: header carries the UTF-8 address"


def test_address_literal_recipients_go_to_that_address_and_keep_their_form(gateway, smtp_peer, dns_server):
    port = common_port(["127.0.0.1"])
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", port))
    v4 = smtp_peer({"hostname": "v4.test"}, host="127.0.0.1", port=port)
    v6 = smtp_peer({"hostname": "v6.test"}, host="::1", port=port)
    node = gateway(env={"MAILGATE_DNS_SERVER": dns_server(ZONE).address, "MAILGATE_MX_PORT": str(port),
                        "MAILGATE_RETRY_SCHEDULE": "10m", "MAILGATE_SMTP_TIMEOUT": "5s"})
    accepted = node.send({"from": "alice@example.com", "to": ["a@[127.0.0.1]", "b@[IPv6:::1]"], "text": "x"})
    recipients = by_email(node.wait_final(accepted["id"]))
    assert recipients["a@[127.0.0.1]"]["status"] == "delivered", recipients
    assert recipients["b@[IPv6:::1]"]["status"] == "delivered", recipients
    assert recipients["a@[127.0.0.1]"]["last_response"]["host"] == "[127.0.0.1]"
    assert recipients["b@[IPv6:::1]"]["last_response"]["host"] == "[IPv6:::1]", "an IP literal stays as written (SPEC §6)"
    assert [m["rcpt_tos"] for m in v4.messages()] == [["a@[127.0.0.1]"]]
    assert [m["rcpt_tos"] for m in v6.messages()] == [["b@[IPv6:::1]"]]


def test_lookups_that_time_out_do_not_hold_the_connections_of_other_domains(gateway, smtp_peer, dns_server):
    world = MXWorld(gateway, smtp_peer, dns_server, env={"MAILGATE_SMTP_CONNECTIONS": "2"}).start()
    silent = [world.node.send({"from": "alice@example.com", "to": f"q@{domain}", "text": "x"})["id"]
              for domain in ("silent.test", "silent2.test", "silent3.test")]
    healthy = world.node.send({"from": "alice@example.com", "to": "bob@a.test", "text": "x"})["id"]
    assert world.node.wait_final(healthy)["recipients"][0]["status"] == "delivered"
    # Three lookups that the DNS server never answers are still running, and the
    # two connections allowed were free for the healthy domain all the same.
    assert [world.node.message(i)["recipients"][0]["status"] for i in silent] == ["queued"] * 3
