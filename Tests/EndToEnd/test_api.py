"""POST /v1/messages and the HTTP contract around it (SPEC §2, §6), as a client sees it:
status codes, problem+json bodies, authentication, routing, idempotency and limits."""

import base64
import datetime
import json

import pytest

from harness import REPO, assert_problem, free_port

MESSAGE = {"from": "Alice <alice@example.com>", "to": ["bob@example.org"], "subject": "Hello", "text": "plain body"}
OPEN_ROUTES = ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]
UNKNOWN_ID = "msg_01m8pc41w14a4b6a3177z5zrj9"


def message(**changes):
    """MESSAGE with `changes`; a change to None removes the member."""
    result = dict(MESSAGE)
    result.update(changes)
    return {key: value for key, value in result.items() if value is not None}


def post(node, body, content_type="application/json", headers=None):
    headers = dict(headers or {})
    if content_type:
        headers["Content-Type"] = content_type
    return node.request("POST", "/v1/messages", body=body, headers=headers)


def count_messages(node):
    """Every message the gateway lists, across all pages."""
    total, cursor = 0, None
    for _ in range(100):
        response = node.request("GET", "/v1/messages?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status == 200, response
        page = response.json()
        total += len(page["messages"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total
    raise AssertionError("more than 100 pages")


@pytest.fixture(scope="module")
def api(module_gateway):
    """A gateway whose relay is a closed port: messages stay in the queue."""
    return module_gateway(env={
        "MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}",
        "MAILGATE_SMTP_TIMEOUT": "2s",
        "MAILGATE_MAX_MESSAGE_SIZE": "64KiB",
        "MAILGATE_MAX_RECIPIENTS": "5",
        "MAILGATE_LOG_LEVEL": "info",
    }, name="api")


@pytest.fixture(scope="module")
def keyed(module_gateway):
    return module_gateway(
        env={"MAILGATE_API_KEYS": "key-one,key-two", "MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}"},
        api_key="key-two", name="keyed")


# -- accepting


def test_accepted_message_answers_202_and_is_stored(api):
    response = api.request("POST", "/v1/messages", json_body=message(
        to=["bob@example.org", {"email": "carol@example.net", "name": "Carol Ä"}], cc="dave@example.com",
        bcc=["audit@example.com"], tags=["receipt"], metadata={"order": "1234"}))
    assert response.status == 202, response
    assert response.header("Content-Type").split(";")[0] == "application/json"
    accepted = response.json()
    assert set(accepted) == {"id", "status", "recipients"}
    assert accepted["id"].startswith("msg_")
    assert accepted["status"] == "queued"
    assert accepted["recipients"] == [
        {"email": email, "status": "queued"}
        for email in ["bob@example.org", "carol@example.net", "dave@example.com", "audit@example.com"]]

    stored = api.message(accepted["id"])
    assert stored["id"] == accepted["id"]
    assert stored["subject"] == "Hello"
    assert "alice@example.com" in stored["from"]
    assert stored["tags"] == ["receipt"] and stored["metadata"] == {"order": "1234"}
    assert stored["status"] in {"queued", "complete"}
    assert datetime.datetime.fromisoformat(stored["created_at"].replace("Z", "+00:00"))
    assert isinstance(stored["events"], list)
    assert sorted(r["email"] for r in stored["recipients"]) == sorted(r["email"] for r in accepted["recipients"])
    for recipient in stored["recipients"]:
        assert {"email", "status", "attempts", "next_attempt_at", "last_response", "updated_at"} <= set(recipient)


def test_future_send_at_is_scheduled(api):
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    accepted = api.send(message(to=["bob@example.org", "carol@example.net"], send_at=later))
    assert accepted["status"] == "scheduled"
    assert [r["status"] for r in accepted["recipients"]] == ["scheduled", "scheduled"]
    stored = api.message(accepted["id"])
    assert stored["status"] == "scheduled"
    assert [r["status"] for r in stored["recipients"]] == ["scheduled", "scheduled"]
    assert all(r["attempts"] == 0 for r in stored["recipients"])


def test_past_send_at_sends_at_once(api):
    accepted = api.send(message(send_at="2020-01-01T00:00:00Z"))
    assert accepted["status"] == "queued"
    assert accepted["recipients"] == [{"email": "bob@example.org", "status": "queued"}]


def test_content_type_with_parameters_is_json(api):
    response = post(api, json.dumps(MESSAGE).encode(), content_type="Application/JSON; charset=utf-8")
    assert response.status == 202, response


# -- 400, 415


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b'{"from": }', b'{"a": 1} {"b": 2}', b"\xff\xfe{}"])
def test_invalid_json_is_400(api, body):
    assert_problem(post(api, body), 400)


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"true", b"[{}]"])
def test_json_that_is_not_an_object_is_400(api, body):
    assert_problem(post(api, body), 400)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_other_content_types_are_415(api, content_type):
    assert_problem(post(api, json.dumps(MESSAGE).encode(), content_type=content_type), 415)


# -- 401


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "Bearer key-one,key-two", "Basic a2V5LXR3bzo=",
                                           "key-two", "Bearer", "Bearer key-twoo", "Bearer key-tw", "Token key-two"])
def test_keys_are_required_on_every_v1_route(keyed, authorization):
    for method, path, body in [("POST", "/v1/messages", MESSAGE), ("GET", "/v1/messages", None),
                               ("POST", "/v1/messages/batch", {"messages": [MESSAGE]}),
                               ("GET", f"/v1/messages/{UNKNOWN_ID}", None), ("DELETE", f"/v1/messages/{UNKNOWN_ID}", None)]:
        if authorization is None:
            response = _without_key(keyed, method, path, body)
        else:
            response = keyed.request(method, path, json_body=body, headers={"Authorization": authorization})
        problem = assert_problem(response, 401)
        assert response.header("WWW-Authenticate").split()[0] == "Bearer", response.headers
        assert "key" in problem["detail"].lower()


def _without_key(node, method, path, body):
    saved, node.api_key = node.api_key, None
    try:
        return node.request(method, path, json_body=body)
    finally:
        node.api_key = saved


def test_every_configured_key_works_and_the_scheme_is_case_insensitive(keyed):
    for authorization in ["Bearer key-one", "Bearer key-two", "bearer key-two", "BEARER key-one", "Bearer  key-two",
                          "Bearer\tkey-one"]:
        response = keyed.request("POST", "/v1/messages", json_body=MESSAGE, headers={"Authorization": authorization})
        assert response.status == 202, (authorization, response)
    assert keyed.request("GET", "/v1/messages").status == 200


def test_operational_routes_need_no_key(keyed):
    for path in OPEN_ROUTES:
        response = _without_key(keyed, "GET", path, None)
        assert response.status == 200, (path, response)


# -- 404, 405


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/", "/v2/messages", "/v1/message", "/v1/messages/", f"/v1/messages/{UNKNOWN_ID}",
                                  "/v1/messages/not-an-id", f"/v1/messages/{UNKNOWN_ID}/events", "/healthz/x", "/openapi.json"])
def test_unknown_paths_are_404(api, path):
    assert_problem(api.request("GET", path), 404)


SERVED = {
    "/v1/messages": {"GET", "HEAD", "POST"},
    f"/v1/messages/{UNKNOWN_ID}": {"GET", "HEAD", "DELETE"},
    "/healthz": {"GET", "HEAD"},
    "/readyz": {"GET", "HEAD"},
    "/metrics": {"GET", "HEAD"},
    "/openapi.yaml": {"GET", "HEAD"},
}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "BREW"]


def allow_set(response):
    return {method.strip() for method in (response.header("Allow") or "").split(",") if method.strip()}


@pytest.mark.parametrize("path", SERVED)
def test_methods_a_path_does_not_serve_are_405_with_allow(api, path):
    for method in METHODS:
        if method in SERVED[path]:
            continue
        response = api.request(method, path, headers={"Content-Type": "application/json"}, body=b"{}")
        assert_problem(response, 405)
        assert allow_set(response) == SERVED[path], (method, path, response.headers)


def test_batch_path_refuses_other_methods_with_405(api):
    for method in ["PUT", "PATCH", "TRACE", "PROPFIND"]:
        response = api.request(method, "/v1/messages/batch")
        assert_problem(response, 405)
        assert "POST" in allow_set(response) and method not in allow_set(response)


def test_batch_path_serves_only_post(api):
    for method in ["GET", "DELETE"]:
        response = api.request(method, "/v1/messages/batch")
        assert_problem(response, 405)
        assert allow_set(response) == {"POST"}


# -- 409 and replays


def test_idempotency_key_replays_the_first_answer_and_refuses_other_bodies(api):
    body = json.dumps(message(subject="Order 7")).encode()
    key = {"Idempotency-Key": "order-7"}
    first = post(api, body, headers=key)
    assert first.status == 202, first
    assert first.header("Idempotent-Replayed") is None
    before = count_messages(api)

    replay = post(api, body, headers=key)
    assert replay.status == 202
    assert replay.body == first.body
    assert replay.header("Idempotent-Replayed") == "true"
    assert count_messages(api) == before, "a replay creates nothing"

    for other in [json.dumps(message(subject="Order 8")).encode(), json.dumps(message(subject="Order 7"), indent=1).encode()]:
        conflict = post(api, other, headers=key)
        assert_problem(conflict, 409)
    assert count_messages(api) == before

    fresh = post(api, body, headers={"Idempotency-Key": "order-7b"})
    assert fresh.status == 202 and fresh.json()["id"] != first.json()["id"]


# -- 413, 422


def test_body_over_the_size_limit_is_413(api):
    before = count_messages(api)
    response = post(api, json.dumps(message(text="x" * 70_000)).encode())
    assert_problem(response, 413)
    assert count_messages(api) == before


@pytest.mark.parametrize("grows", ["attachment", "text"])
def test_composed_message_over_the_size_limit_is_413(api, grows):
    if grows == "attachment":
        # 64,000 base64 characters fit the 64 KiB body; folded into 76-column lines with MIME headers they do not.
        payload = base64.b64encode(bytes(range(256)) * 187 + b"x" * 128).decode()
        request = message(attachments=[{"filename": "data.bin", "content_type": "application/octet-stream", "content": payload}])
    else:
        request = message(text="é" * 30_000)
    body = json.dumps(request, ensure_ascii=False).encode()
    assert len(body) < 64 * 1024
    before = count_messages(api)
    assert_problem(post(api, body), 413)
    assert count_messages(api) == before


INVALID = [
    ({"to": ["ok@example.org", "not-an-address"]}, ["to[1]"]),
    ({"to": "not an address"}, ["to"]),
    ({"to": []}, ["to"]),
    ({"to": None}, ["to"]),
    ({"to": [f"r{i}@example.org" for i in range(4)], "cc": "c@example.org", "bcc": "b@example.org"}, ["to"]),
    ({"cc": [{"email": "bad"}]}, ["cc[0].email"]),
    ({"to": [{"email": "b@example.org", "name": "Bob\r\nBcc: evil@example.com"}]}, ["to[0].name"]),
    ({"to": [{"email": "b@example.org", "name": "Bob\nX-Evil: 1"}]}, ["to[0].name"]),
    ({"from": None}, ["from"]),
    ({"from": {"email": "nope"}}, ["from.email"]),
    ({"from": "Eve\r\nBcc: evil@example.com <eve@example.com>"}, ["from"]),
    ({"reply_to": "bad"}, ["reply_to"]),
    ({"subject": "Hi\r\nBcc: evil@example.com"}, ["subject"]),
    ({"subject": "Hi\rthere"}, ["subject"]),
    ({"subject": "Hi\nthere"}, ["subject"]),
    ({"text": None}, ["text"]),
    ({"raw": "***", "text": None, "subject": None}, ["raw"]),
    ({"headers": {"X-Name": "a\r\nBcc: evil@example.com"}}, ["headers.X-Name"]),
    ({"headers": {"X-Name": "a\nb"}}, ["headers.X-Name"]),
    ({"headers": {"X-A\r\nBcc": "v"}}, ["headers.X-A\r\nBcc"]),
    *[({"headers": {name: "x"}}, [f"headers.{name}"])
      for name in ["From", "To", "Cc", "Bcc", "Date", "Message-ID", "MIME-Version", "Content-Type", "content-transfer-encoding"]],
    ({"attachments": [{"filename": "a.txt", "content_type": "text/plain", "content": "!!!not base64"}]}, ["attachments[0].content"]),
    ({"send_at": "tomorrow"}, ["send_at"]),
    ({"send_at": "2026-13-01T09:00:00Z"}, ["send_at"]),
    *[({"webhook_url": url}, ["webhook_url"]) for url in [
        "http://127.0.0.1/hook", "http://[::ffff:127.0.0.1]/hook", "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook", "http://[::1]/hook", "ftp://example.com/hook", "not a url"]],
]


@pytest.mark.parametrize("changes,fields", INVALID, ids=[f"{i}-{'+'.join(f)}" for i, (_, f) in enumerate(INVALID)])
def test_invalid_requests_are_422_naming_the_field(api, changes, fields):
    body = assert_problem(api.request("POST", "/v1/messages", json_body=message(**changes)), 422)
    assert sorted(error["field"] for error in body["errors"]) == sorted(fields), body
    assert all(isinstance(error["message"], str) and error["message"] for error in body["errors"])


def test_every_bad_field_is_named_at_once(api):
    before = count_messages(api)
    body = assert_problem(api.request("POST", "/v1/messages", json_body={
        "from": {"email": "nope"}, "to": ["ok@example.org", "bad", {"email": "x@example.org", "name": "a\rb"}],
        "subject": "a\nb", "text": "body", "headers": {"X-Name": "v\r\n", "Date": "today"},
        "attachments": [{"filename": "a", "content_type": "text/plain", "content": "%%%"}],
        "send_at": "soon", "webhook_url": "http://[::ffff:127.0.0.1]/h"}), 422)
    assert sorted(e["field"] for e in body["errors"]) == sorted([
        "from.email", "to[1]", "to[2].name", "subject", "headers.X-Name", "headers.Date",
        "attachments[0].content", "send_at", "webhook_url"])
    assert count_messages(api) == before


# -- 429, 431


def test_queue_limit_answers_429_with_retry_after(gateway):
    node = gateway(env={"MAILGATE_QUEUE_LIMIT": "3", "MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}",
                        "MAILGATE_SMTP_TIMEOUT": "2s"})
    ids = [node.send(message(subject=f"n{i}"))["id"] for i in range(3)]
    full = node.request("POST", "/v1/messages", json_body=message(subject="one too many"))
    assert_problem(full, 429)
    assert full.header("Retry-After") and int(full.header("Retry-After")) > 0, full.headers
    assert count_messages(node) == 3

    assert node.request("DELETE", f"/v1/messages/{ids[0]}").status == 200
    assert node.request("POST", "/v1/messages", json_body=message(subject="room again")).status == 202


def test_request_headers_over_16_kib_are_431(api):
    assert api.request("GET", "/healthz", headers={"X-Padding": "a" * 12_000}).status == 200
    assert_problem(api.request("GET", "/healthz", headers={"X-Padding": "a" * 17_000}), 431)
    many = {f"X-Padding-{i}": "b" * 100 for i in range(170)}
    assert_problem(api.request("POST", "/v1/messages", json_body=MESSAGE, headers=many), 431)


# -- operational routes


def test_readyz_answers_200_while_serving(api):
    response = api.request("GET", "/readyz")
    assert response.status == 200, response


def test_openapi_document_is_the_repository_file(api):
    response = api.request("GET", "/openapi.yaml")
    assert response.status == 200
    assert "yaml" in response.header("Content-Type")
    assert response.body == (REPO / "openapi.yaml").read_bytes()
