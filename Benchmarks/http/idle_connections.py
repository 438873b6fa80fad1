"""Opens N keep-alive connections to a server, sends one request on each, and
holds them idle until terminated (at most HOLD_SECONDS), for memory figures.

Usage: python3 idle_connections.py HOST PORT COUNT PATH
Prints "ready <count>" once every connection has been answered.
"""
import resource
import socket
import sys
import time

HOLD_SECONDS = 120


def main() -> int:
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100), hard))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    connections = []
    for _ in range(count):
        connection = socket.create_connection((host, port), timeout=10)
        connection.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                print("server closed a connection", file=sys.stderr)
                return 1
            received += chunk
        connections.append(connection)
    print(f"ready {len(connections)}", flush=True)
    time.sleep(HOLD_SECONDS)
    for connection in connections:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
