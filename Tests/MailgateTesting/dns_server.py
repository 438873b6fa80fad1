#!/usr/bin/env python3
"""A scriptable DNS server for tests: answers from a JSON zone file, on UDP and TCP
on the same loopback port, the way a recursive resolver would answer a stub.

Usage:
    dns_server.py ZONE.json [--host 127.0.0.1] [--port 0] [--log FILE]
                  [--silent] [--exit-with-stdin]

Once both sockets listen it prints one line, "PORT <n>", on stdout.
It stops on SIGTERM or SIGINT, and with --exit-with-stdin also when its standard
input reaches end of file (so it never outlives the test process that piped it).

The zone file is a JSON object from names (any case, trailing dot optional) to
entries; it is read again whenever it changes, so a test can change the answers
while the server runs (replace the file atomically). An entry may hold:

    "MX":    [[10, "mx1.example.test"], [20, "mx2.example.test"]]   ("." = null MX)
    "A":     ["127.0.0.1"]          "AAAA": ["::1"]
    "CNAME": "target.example.test"  (followed within the zone, chain in the answer)
    "TXT":   ["some text"]
    "ttl":   60
    "rcode": "SERVFAIL" | "REFUSED" | "NXDOMAIN" | "FORMERR" | "NOTIMP"
             (every query for the name gets this RCODE and no records), or per type:
             {"AAAA": "SERVFAIL"}
    "truncate": true        over UDP: TC set and no records, so clients retry on TCP
    "drop": true            never answer queries for the name (UDP or TCP); or a list
                            of the types not to answer: ["AAAA"]
    "mismatch_first": true  over UDP: first a reply with another id, then one with
                            another question, then the real answer
    "malformed": true       reply with the right id but a packet cut inside the answer
    "formerr_with_edns": true  answer FORMERR to queries carrying an EDNS0 OPT record,
                            as a server that predates RFC 6891 does

A name missing from the zone is NXDOMAIN; a present name without records of the
asked type is NOERROR with no answer (NODATA). --silent never answers anything.

--log FILE appends one JSON line per query received:
    {"name": "example.test", "type": "MX", "transport": "udp"}
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord

MAX_CNAME_HOPS = 16


class Zone:
    """The zone file, reloaded when its modification time or size changes."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.stamp = None
        self.entries = {}
        self.refresh()

    def refresh(self):
        try:
            info = os.stat(self.path)
        except OSError:
            return
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp == self.stamp:
            return
        try:
            with open(self.path, encoding="utf-8") as file:
                raw = json.load(file)
        except (OSError, ValueError):
            return
        self.entries = {normalize(name): entry for name, entry in raw.items()}
        self.stamp = stamp

    def lookup(self, name):
        with self.lock:
            self.refresh()
            return self.entries.get(normalize(name))


def normalize(name):
    return str(name).rstrip(".").lower()


def records_of(owner, qtype, entry):
    """The resource records of one type that an entry holds for its owner name."""
    ttl = entry.get("ttl", 60)
    builders = {
        "MX": lambda v: MX(v[1], v[0]),
        "A": A,
        "AAAA": AAAA,
        "TXT": TXT,
    }
    build = builders.get(qtype)
    if build is None:
        return []
    return [RR(owner, getattr(QTYPE, qtype), rdata=build(v), ttl=ttl) for v in entry.get(qtype, [])]


def resolve(zone, request):
    """The reply a recursive server would send, and the first entry met (for flags)."""
    question = request.q
    qtype = QTYPE[question.qtype]
    reply = request.reply()
    name = str(question.qname)
    first = zone.lookup(name)
    for _ in range(MAX_CNAME_HOPS):
        entry = zone.lookup(name)
        if entry is None:
            reply.header.rcode = RCODE.NXDOMAIN
            break
        rcode = entry.get("rcode")
        if isinstance(rcode, dict):
            rcode = rcode.get(qtype)
        if rcode:
            reply.header.rcode = getattr(RCODE, rcode)
            reply.rr = []
            break
        if "CNAME" in entry and qtype != "CNAME":
            target = entry["CNAME"]
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(target), ttl=entry.get("ttl", 60)))
            name = target
            continue
        if qtype == "CNAME" and "CNAME" in entry:
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(entry["CNAME"]), ttl=entry.get("ttl", 60)))
        for record in records_of(name, qtype, entry):
            reply.add_answer(record)
        break
    return reply, first or {}


class Server:
    def __init__(self, zone, silent, log_path):
        self.zone = zone
        self.silent = silent
        self.log_lock = threading.Lock()
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def note(self, request, transport):
        if self.log is None:
            return
        line = json.dumps({
            "name": str(request.q.qname).rstrip("."),
            "type": QTYPE[request.q.qtype],
            "transport": transport,
        })
        with self.log_lock:
            self.log.write(line + "\n")
            self.log.flush()

    def answers(self, data, transport):
        """The packets to send back for one query (none to stay silent)."""
        try:
            request = DNSRecord.parse(data)
        except Exception:
            return []
        self.note(request, transport)
        if self.silent or not request.questions:
            return []
        reply, entry = resolve(self.zone, request)
        drop = entry.get("drop")
        if drop is True or (isinstance(drop, list) and QTYPE[request.q.qtype] in drop):
            return []
        packet = reply.pack()
        if entry.get("formerr_with_edns") and any(rr.rtype == QTYPE.OPT for rr in request.ar):
            refusal = request.reply()
            refusal.header.rcode = RCODE.FORMERR
            return [refusal.pack()]
        if entry.get("malformed"):
            return [packet[:12] + b"\x00" * 3]
        if transport == "udp" and entry.get("truncate"):
            cut = request.reply()
            cut.header.tc = 1
            return [cut.pack()]
        if transport == "udp" and entry.get("mismatch_first"):
            wrong_id = bytearray(packet)
            wrong_id[0] ^= 0xFF
            other = request.reply()
            other.q.qname = "other-" + str(request.q.qname)
            return [bytes(wrong_id), other.pack(), packet]
        return [packet]

    def serve_udp(self, sock):
        while True:
            data, peer = sock.recvfrom(65535)
            for packet in self.answers(data, "udp"):
                sock.sendto(packet, peer)

    def serve_tcp(self, listener):
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=self.serve_connection, args=(conn,), daemon=True).start()

    def serve_connection(self, conn):
        with conn:
            while True:
                header = read_exactly(conn, 2)
                if header is None:
                    return
                data = read_exactly(conn, struct.unpack("!H", header)[0])
                if data is None:
                    return
                for packet in self.answers(data, "tcp"):
                    conn.sendall(struct.pack("!H", len(packet)) + packet)


def read_exactly(conn, count):
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def bind_pair(host, port):
    """A UDP socket and a TCP listener on the same port (a free one when port is 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, chosen))
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
            continue
        tcp.listen(64)
        return udp, tcp, chosen
    raise OSError("no port free for both UDP and TCP")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zone")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--exit-with-stdin", action="store_true")
    args = parser.parse_args()

    server = Server(Zone(args.zone), args.silent, args.log)
    udp, tcp, port = bind_pair(args.host, args.port)
    threading.Thread(target=server.serve_udp, args=(udp,), daemon=True).start()
    threading.Thread(target=server.serve_tcp, args=(tcp,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"PORT {port}", flush=True)
    try:
        if args.exit_with_stdin:
            while sys.stdin.buffer.read(4096):
                pass
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
