"""Fixtures for the end-to-end tests: every process a test starts is stopped after it."""

import pytest

from harness import DNSServer, Gateway, SMTPPeer, WebhookReceiver


@pytest.fixture
def processes():
    started = []
    yield started
    for process in reversed(started):
        try:
            if isinstance(process, Gateway):
                if process.process and process.process.poll() is None:
                    process.process.kill()
                    process.process.wait()
            else:
                process.stop()
        except Exception:
            pass


@pytest.fixture
def gateway(tmp_path, processes):
    """Makes gateways: `gateway(env={...}, api_key=...)`; started unless start=False."""
    def make(env=None, api_key=None, start=True, name="gateway", workdir=None, port=None):
        instance = Gateway(workdir or tmp_path / name, env=env, api_key=api_key, name=name, port=port)
        processes.append(instance)
        return instance.start() if start else instance
    return make


@pytest.fixture
def smtp_peer(tmp_path, processes):
    """Makes scriptable SMTP peers: `smtp_peer({"rcpt": {...}})`."""
    def make(script=None, host="127.0.0.1", port=0):
        peer = SMTPPeer(tmp_path, script, host=host, port=port)
        processes.append(peer)
        return peer
    return make


@pytest.fixture
def dns_server(tmp_path, processes):
    def make(zone, host="127.0.0.1"):
        server = DNSServer(tmp_path, zone, host=host)
        processes.append(server)
        return server
    return make


@pytest.fixture
def webhook_receiver(tmp_path, processes):
    def make(script=None, secret=None, host="127.0.0.1"):
        receiver = WebhookReceiver(tmp_path, script, secret=secret, host=host)
        processes.append(receiver)
        return receiver
    return make


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory):
    """Makes gateways shared by every test of one module (killed at its end), for
    tests that only need a running gateway: `module_gateway(env={...}, api_key=...)`."""
    started = []

    def make(env=None, api_key=None, name="gateway"):
        instance = Gateway(tmp_path_factory.mktemp(name), env=env, api_key=api_key, name=name)
        started.append(instance)
        return instance.start()
    yield make
    for instance in started:
        if instance.process and instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait()
