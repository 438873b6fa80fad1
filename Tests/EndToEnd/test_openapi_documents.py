"""What .ci/check-openapi's fuzzing cannot reach: real delivery outcomes. Every
recipient status and webhook event type is produced at a scripted SMTP peer, and
the answers of GET/DELETE and the webhook posts (body and headers) are validated
against the schemas of the repository's openapi.yaml."""

import base64
import json
import os
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness import REPO, wait_until

DOCUMENT = yaml.safe_load((Path(REPO) / "openapi.yaml").read_text())
REGISTRY = Registry().with_resource("urn:mailgate", Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def validator(pointer):
    return Draft202012Validator({"$ref": "urn:mailgate#" + pointer}, registry=REGISTRY)


def assert_valid(pointer, instance):
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator(pointer).iter_errors(instance)]
    assert not errors, f"{pointer}: {errors}\n{json.dumps(instance, indent=1)}"


def test_outcomes_and_webhooks_match_the_document(gateway, smtp_peer, webhook_receiver):
    relay = smtp_peer({"rcpt": {"carol@example.net": "550 5.1.1 no such user",
                                "dave@example.net": "451 4.3.0 try later"}})
    hooks = webhook_receiver(secret=SECRET)
    node = gateway(api_key="document-key", env={
        "MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}", "MAILGATE_SMTP_TIMEOUT": "5s",
        "MAILGATE_RETRY_SCHEDULE": "1s", "MAILGATE_MAX_QUEUE_LIFETIME": "1s",
        "MAILGATE_WEBHOOK_URL": hooks.url, "MAILGATE_WEBHOOK_ALLOW_PRIVATE": "true",
        "MAILGATE_WEBHOOK_SECRET": SECRET,
    })
    request = {"from": "Alice <alice@example.com>", "to": ["bob@example.org", "carol@example.net"],
               "cc": {"email": "dave@example.net", "name": "Dave"}, "subject": "outcomes", "text": "x",
               "tags": ["receipt"], "metadata": {"order": 1234}}
    assert_valid("/components/schemas/SendRequest", request)
    accepted = node.send(request)
    assert_valid("/components/schemas/Accepted", accepted)

    message = node.wait_final(accepted["id"])
    assert {r["email"]: r["status"] for r in message["recipients"]} == {
        "bob@example.org": "delivered", "carol@example.net": "bounced", "dave@example.net": "failed"}
    assert_valid("/components/schemas/Message", message)
    assert {e["type"] for e in message["events"]} == {"delivered", "bounced", "deferred", "failed"}

    listing = node.request("GET", "/v1/messages?limit=1").json()
    assert_valid("/components/schemas/MessageList", listing)
    refused = node.request("DELETE", f"/v1/messages/{accepted['id']}")
    assert refused.status == 409
    assert_valid("/components/schemas/Problem", refused.json())

    posts = wait_until(lambda: len(hooks.requests()) >= 4 and hooks.requests(), what="four webhook posts")
    operation = DOCUMENT["webhooks"]["messageEvent"]["post"]
    for post in posts:
        body = json.loads(post["body"])
        assert_valid("/webhooks/messageEvent/post/requestBody/content/application~1json/schema", body)
        assert ("reason" in body) == (body["type"] == "failed"), body
        for parameter in operation["parameters"]:
            value = post["headers"].get(parameter["name"])
            assert value is not None or not parameter.get("required"), (parameter["name"], post["headers"])
            if value is not None:
                index = operation["parameters"].index(parameter)
                assert_valid(f"/webhooks/messageEvent/post/parameters/{index}/schema", value)
        assert post["signature"] == "valid", post
    assert {json.loads(p["body"])["type"] for p in posts} == {"delivered", "bounced", "deferred", "failed"}
    assert node.stop() == 0


def test_query_errors_name_every_parameter(gateway):
    node = gateway()
    response = node.request("GET", "/v1/messages?status=nope&limit=0&cursor=not-a-cursor")
    assert response.status == 400, response
    assert response.header("Content-Type") == "application/problem+json"
    problem = response.json()
    assert_valid("/components/schemas/Problem", problem)
    assert [error["field"] for error in problem["errors"]] == ["status", "limit", "cursor"]
    assert node.request("GET", "/v1/messages?status=&limit=&cursor=").status == 200, "empty counts as absent"
