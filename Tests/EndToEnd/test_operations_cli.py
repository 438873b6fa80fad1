"""The command line (SPEC §1, §6 "CLI output"): `send` against a running gateway,
`queue …` on the store while the gateway runs and while it is stopped,
`check-config` and `version`."""

import email
import email.policy
import json
import re
import subprocess

import pytest

from harness import BINARY, free_port, wait_until

ID = re.compile(r"^msg_[0-9a-z]+$")
SPEC_VARIABLES = [
    "MAILGATE_LISTEN", "MAILGATE_DATA_DIR", "MAILGATE_DATABASE_URL", "MAILGATE_API_KEYS", "MAILGATE_RELAY",
    "MAILGATE_HELO_NAME", "MAILGATE_DNS_SERVER", "MAILGATE_MX_PORT", "MAILGATE_RETRY_SCHEDULE",
    "MAILGATE_MAX_QUEUE_LIFETIME", "MAILGATE_SMTP_TIMEOUT", "MAILGATE_SMTP_CONNECTIONS",
    "MAILGATE_DESTINATION_CONNECTIONS", "MAILGATE_MAX_MESSAGE_SIZE", "MAILGATE_MAX_RECIPIENTS", "MAILGATE_QUEUE_LIMIT",
    "MAILGATE_WEBHOOK_URL", "MAILGATE_WEBHOOK_SECRET", "MAILGATE_WEBHOOK_RETRY_SCHEDULE", "MAILGATE_WEBHOOK_TIMEOUT",
    "MAILGATE_WEBHOOK_ALLOW_PRIVATE", "MAILGATE_LOG_LEVEL", "MAILGATE_LOG_FORMAT",
]


def run(*args, env=None, timeout=30):
    environment = {"PATH": "/usr/bin:/bin"}
    environment.update(env or {})
    return subprocess.run([BINARY, *args], env=environment, capture_output=True, text=True, timeout=timeout)


# -- send


def test_send_prints_only_the_id(gateway, smtp_peer, tmp_path):
    relay = smtp_peer()
    node = gateway(api_key="cli-key-123", env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}"})
    url = f"http://127.0.0.1:{node.port}"
    attachment = tmp_path / "report.pdf"
    attachment.write_bytes(bytes(range(256)) * 40)

    by_env = run("send", "--from", "Alice <alice@example.com>", "--to", "bob@example.org", "--to", "carol@example.net",
                 "--subject", "CLI ✓", "--text", "from the command line", "--attach", str(attachment),
                 env={"MAILGATE_URL": url, "MAILGATE_API_KEY": "cli-key-123"})
    assert by_env.returncode == 0, by_env
    assert ID.match(by_env.stdout.rstrip("\n")) and by_env.stdout.count("\n") == 1, repr(by_env.stdout)
    message_id = by_env.stdout.strip()
    stored = node.wait_final(message_id)
    assert stored["subject"] == "CLI ✓"
    assert sorted(r["email"] for r in stored["recipients"]) == ["bob@example.org", "carol@example.net"]
    content = email.message_from_bytes(relay.messages()[0]["content"], policy=email.policy.default)
    attached = [part for part in content.walk() if part.get_filename() == "report.pdf"]
    assert len(attached) == 1 and attached[0].get_payload(decode=True) == attachment.read_bytes()
    assert attached[0].get_content_type() == "application/pdf"

    by_flags = run("send", "--url", url, "--api-key", "cli-key-123", "--from", "alice@example.com",
                   "--to", "dave@example.org", "--html", "<p>hi</p>")
    assert by_flags.returncode == 0, by_flags
    assert ID.match(by_flags.stdout.strip()) and by_flags.stdout.strip() != message_id
    flags_win = run("send", "--url", url, "--api-key", "cli-key-123", "--from", "alice@example.com", "--to", "e@example.org",
                    "--text", "x", env={"MAILGATE_URL": "http://127.0.0.1:1", "MAILGATE_API_KEY": "wrong"})
    assert flags_win.returncode == 0, flags_win


def test_send_reports_refusals_on_stderr_with_status_1(gateway):
    node = gateway(api_key="cli-key-123")
    target = {"MAILGATE_URL": f"http://127.0.0.1:{node.port}", "MAILGATE_API_KEY": "cli-key-123"}
    invalid = run("send", "--from", "alice@example.com", "--to", "not an address", "--text", "x", env=target)
    assert invalid.returncode == 1 and invalid.stdout == ""
    assert "422" in invalid.stderr and "to" in invalid.stderr
    unauthorized = run("send", "--from", "alice@example.com", "--to", "b@example.org", "--text", "x",
                       env=dict(target, MAILGATE_API_KEY="wrong"))
    assert unauthorized.returncode == 1 and "401" in unauthorized.stderr and unauthorized.stdout == ""
    unreachable = run("send", "--from", "alice@example.com", "--to", "b@example.org", "--text", "x",
                      env={"MAILGATE_URL": f"http://127.0.0.1:{free_port()}"})
    assert unreachable.returncode == 1 and unreachable.stderr.strip() and unreachable.stdout == ""
    missing = run("send", "--from", "alice@example.com", "--to", "b@example.org", "--text", "x", "--attach", "/nonexistent/file",
                  env=target)
    assert missing.returncode == 1 and "/nonexistent/file" in missing.stderr


@pytest.mark.parametrize("args", [
    ["send", "--to", "b@example.org", "--text", "x"],
    ["send", "--from", "a@example.com", "--text", "x"],
    ["send", "--from", "a@example.com", "--to", "b@example.org"],
    ["send", "--from", "a@example.com", "--to", "b@example.org", "--text", "x", "--bogus"],
    ["queue", "retry"],
    ["queue", "retry", "msg_x", "--all"],
    ["queue", "show"],
    ["queue", "list", "--status", "nonsense"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(tmp_path, args):
    result = run(*args, env={"MAILGATE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2, result
    assert result.stderr.strip() and result.stdout == ""


# -- queue


def queue_state(node):
    """A gateway that cannot deliver, holding a deferred message (2 recipients), a second
    deferred one and a scheduled one."""
    deferred = node.send({"from": "a@example.com", "to": ["b@example.org", "c@example.org"], "subject": "first", "text": "x"})["id"]
    other = node.send({"from": "a@example.com", "to": "d@example.org", "subject": "second", "text": "x"})["id"]
    scheduled = node.send({"from": "a@example.com", "to": "e@example.org", "subject": "later", "text": "x",
                           "send_at": "2099-01-01T00:00:00Z"})["id"]
    for message_id in (deferred, other):
        node.wait_status(message_id, "deferred", timeout=10)
    return deferred, other, scheduled


def check_listing(node, deferred, other, scheduled):
    table = node.cli("queue", "list")
    assert table.returncode == 0, table
    header, *rows = table.stdout.strip().splitlines()
    assert "ID" in header and "STATUS" in header
    assert [row.split()[0] for row in rows] == [scheduled, other, deferred], "newest first"
    listed = node.cli("queue", "list", "--json")
    assert listed.returncode == 0
    assert [m["id"] for m in json.loads(listed.stdout)] == [scheduled, other, deferred]
    only_deferred = node.cli("queue", "list", "--status", "deferred", "--json")
    assert [m["id"] for m in json.loads(only_deferred.stdout)] == [other, deferred]
    shown = node.cli("queue", "show", deferred)
    assert shown.returncode == 0
    message = json.loads(shown.stdout)
    assert message["id"] == deferred and [r["status"] for r in message["recipients"]] == ["deferred", "deferred"]
    assert "events" in message
    for verb in ("show", "retry", "cancel"):
        unknown = node.cli("queue", verb, "msg_01m8pc41w14a4b6a3177z5zrj9")
        assert unknown.returncode == 1 and unknown.stderr.strip() and unknown.stdout == "", (verb, unknown)


def test_queue_commands_while_the_gateway_runs(gateway):
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s",
                        "MAILGATE_RETRY_SCHEDULE": "1h"})
    deferred, other, scheduled = queue_state(node)
    check_listing(node, deferred, other, scheduled)

    retried = node.cli("queue", "retry", deferred)
    assert retried.returncode == 0 and "2" in retried.stdout, retried
    wait_until(lambda: all(r["attempts"] == 2 for r in node.message(deferred)["recipients"]), timeout=15,
               what="the running gateway to try the retried message again")
    assert node.message(other)["recipients"][0]["attempts"] == 1, "only the named message is retried"
    everything = node.cli("queue", "retry", "--all")
    assert everything.returncode == 0, everything
    wait_until(lambda: node.message(other)["recipients"][0]["attempts"] == 2, timeout=15, what="retry --all to take effect")

    canceled = node.cli("queue", "cancel", other)
    assert canceled.returncode == 0, canceled
    assert node.message(other)["status"] == "canceled"
    again = node.cli("queue", "cancel", other)
    assert again.returncode == 1 and again.stderr.strip()
    assert node.request("GET", "/readyz").status == 200


def test_queue_commands_while_the_gateway_is_stopped(gateway):
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s",
                        "MAILGATE_RETRY_SCHEDULE": "1h"})
    deferred, other, scheduled = queue_state(node)
    assert node.stop() == 0
    check_listing(node, deferred, other, scheduled)
    assert node.cli("queue", "cancel", scheduled).returncode == 0
    assert node.cli("queue", "retry", "--all").returncode == 0
    stopped = json.loads(node.cli("queue", "show", deferred).stdout)
    assert all(r["status"] == "deferred" for r in stopped["recipients"])

    node.start()
    assert node.message(scheduled)["status"] == "canceled"
    wait_until(lambda: all(r["attempts"] == 2 for r in node.message(deferred)["recipients"]), timeout=15,
               what="the retried recipients to be tried at start")
    missing = run("queue", "list", "--data-dir", str(node.workdir / "nowhere"))
    assert missing.returncode == 1 and "nowhere" in missing.stderr


# -- check-config, version


def test_check_config_prints_every_variable_with_secrets_masked(tmp_path):
    secrets = ["key-alpha-1", "key-beta-2", "relay-secret-pw", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "db-secret-pw"]
    env = {"MAILGATE_DATA_DIR": str(tmp_path), "MAILGATE_API_KEYS": "key-alpha-1,key-beta-2",
           "MAILGATE_RELAY": "smtp://mailer:relay-secret-pw@relay.example.com:587?starttls=required",
           "MAILGATE_WEBHOOK_SECRET": secrets[3], "MAILGATE_DATABASE_URL": "postgres://app:db-secret-pw@db.example.com:5432/mail",
           "MAILGATE_SMTP_TIMEOUT": "15s"}
    result = run("check-config", env=env)
    assert result.returncode == 0, result
    values = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert sorted(values) == sorted(SPEC_VARIABLES)
    assert values["MAILGATE_API_KEYS"] == "****" and values["MAILGATE_WEBHOOK_SECRET"] == "****"
    assert values["MAILGATE_RELAY"].startswith("smtp://mailer:****@relay.example.com:587")
    assert "****" in values["MAILGATE_DATABASE_URL"]
    assert values["MAILGATE_SMTP_TIMEOUT"] == "15s"
    assert values["MAILGATE_RETRY_SCHEDULE"] == "1m,5m,15m,30m,1h,2h,4h" and values["MAILGATE_MAX_MESSAGE_SIZE"] == "25MB"
    assert values["MAILGATE_LISTEN"] == "127.0.0.1:8080" and values["MAILGATE_QUEUE_LIMIT"] == "1000000"
    for secret in secrets:
        assert secret not in result.stdout + result.stderr

    (tmp_path / "a-file").write_text("")
    unusable = run("check-config", env=dict(env, MAILGATE_DATABASE_URL="", MAILGATE_DATA_DIR=str(tmp_path / "a-file" / "data")))
    assert unusable.returncode == 1 and "MAILGATE_DATA_DIR" in unusable.stderr, unusable

    invalid = run("check-config", env=dict(env, MAILGATE_SMTP_TIMEOUT="abc"))
    assert invalid.returncode == 1
    assert "MAILGATE_SMTP_TIMEOUT" in invalid.stderr
    for secret in secrets:
        assert secret not in invalid.stdout + invalid.stderr


def test_version():
    result = run("version")
    assert result.returncode == 0
    assert re.fullmatch(r"mailgate \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout
    assert run("--version").stdout.strip() in result.stdout
