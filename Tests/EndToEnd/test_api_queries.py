"""Batch sends, listing, cancelling, scheduling and metrics (SPEC §2 "Other routes", §6)."""

import datetime
import re

import pytest

from harness import assert_problem, free_port, wait_until

MESSAGE = {"from": "alice@example.com", "to": "bob@example.org", "subject": "Hello", "text": "plain body"}
UNKNOWN_ID = "msg_01m8pc41w14a4b6a3177z5zrj9"


def message(**changes):
    result = dict(MESSAGE)
    result.update(changes)
    return result


@pytest.fixture(scope="module")
def queue(module_gateway):
    """Nothing leaves: the relay is a closed port, so recipients stay deferred."""
    return module_gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s"}, name="queries")


def list_page(node, query):
    response = node.request("GET", "/v1/messages" + query)
    assert response.status == 200, response
    page = response.json()
    assert set(page) == {"messages", "next_cursor"}
    return page


# -- batch


def test_batch_accepts_and_refuses_each_item_on_its_own(queue):
    response = queue.request("POST", "/v1/messages/batch", json_body={"messages": [
        message(subject="first"), message(to=["ok@example.org", "broken"]), message(subject="third"), "not an object"]})
    assert response.status == 200, response
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results[:3]] == [202, 422, 202]
    assert results[3]["status"] in (400, 422)
    for accepted in (results[0], results[2]):
        assert accepted["id"].startswith("msg_")
        assert queue.message(accepted["id"])["subject"] in {"first", "third"}
    refused = results[1]["error"]
    assert refused["status"] == 422 and refused["type"] == "about:blank" and refused["title"] and refused["detail"]
    assert [e["field"] for e in refused["errors"]] == ["to[1]"]
    assert "id" not in results[1]


@pytest.mark.parametrize("body", [{}, {"messages": {}}, {"messages": "x"}, {"message": [MESSAGE]}])
def test_batch_without_a_messages_array_is_400(queue, body):
    assert_problem(queue.request("POST", "/v1/messages/batch", json_body=body), 400)


def test_batch_of_500_is_accepted_and_501_is_422_on_messages(queue):
    small = {"from": "a@example.com", "to": "b@example.org", "text": "x"}
    body = assert_problem(queue.request("POST", "/v1/messages/batch", json_body={"messages": [small] * 501}), 422)
    assert [e["field"] for e in body["errors"]] == ["messages"]
    extra = assert_problem(queue.request("POST", "/v1/messages/batch", json_body={"messages": [small], "dry_run": True}), 422)
    assert [e["field"] for e in extra["errors"]] == ["dry_run"], "the batch object is as strict as a message"
    response = queue.request("POST", "/v1/messages/batch", json_body={"messages": [small] * 500})
    assert response.status == 200, response
    results = response.json()["results"]
    assert len(results) == 500 and {r["status"] for r in results} == {202}
    assert len({r["id"] for r in results}) == 500


# -- listing


def test_listing_pages_newest_first_until_next_cursor_is_null(gateway):
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{free_port()}", "MAILGATE_SMTP_TIMEOUT": "2s"})
    created = [node.send(message(subject=f"m{i}"))["id"] for i in range(7)]
    seen, cursor = [], None
    for _ in range(4):
        page = list_page(node, "?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["messages"]) <= 3
        for summary in page["messages"]:
            assert "events" not in summary
            assert {"id", "status", "created_at", "subject", "from", "tags", "metadata", "recipients"} <= set(summary)
        seen += [summary["id"] for summary in page["messages"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None, "the last page says there is no more"
    assert seen == list(reversed(created)), "newest first, each once"
    assert len(list_page(node, "")["messages"]) == 7, "the default limit (50) takes them all"
    exact = list_page(node, "?limit=7")
    assert [m["id"] for m in exact["messages"]] == list(reversed(created))
    assert exact["next_cursor"] is None, "a page that ends the list says so"


def test_listing_filters_on_message_status(queue):
    kept = queue.send(message(subject="kept"))["id"]
    canceled = queue.send(message(subject="to cancel"))["id"]
    assert queue.request("DELETE", f"/v1/messages/{canceled}").status == 200
    later = queue.send(message(subject="later", send_at="2099-01-01T00:00:00Z"))["id"]

    def ids(status):
        return [m["id"] for m in list_page(queue, f"?status={status}&limit=500")["messages"]]
    assert canceled in ids("canceled") and kept not in ids("canceled")
    assert all(m["status"] == "canceled" for m in list_page(queue, "?status=canceled&limit=500")["messages"])
    assert kept in ids("queued") and canceled not in ids("queued") and later not in ids("queued")
    assert ids("scheduled") == [later]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=501", "?limit=abc", "?limit=-1", "?status=nope", "?status=deferred",
                                   "?cursor=not-a-cursor"])
def test_bad_list_parameters_are_refused(queue, query):
    response = queue.request("GET", "/v1/messages" + query)
    assert response.status in (400, 422), response
    assert_problem(response, response.status)


# -- cancelling


def test_delete_cancels_then_409_and_unknown_is_404(queue):
    accepted = queue.send(message(to=["bob@example.org", "carol@example.net"], subject="cancel me"))
    response = queue.request("DELETE", f"/v1/messages/{accepted['id']}")
    assert response.status == 200, response
    canceled = response.json()
    assert canceled["id"] == accepted["id"]
    assert canceled["status"] == "canceled"
    assert [r["status"] for r in canceled["recipients"]] == ["canceled", "canceled"]
    assert queue.message(accepted["id"])["status"] == "canceled"

    assert_problem(queue.request("DELETE", f"/v1/messages/{accepted['id']}"), 409)
    assert_problem(queue.request("DELETE", f"/v1/messages/{UNKNOWN_ID}"), 404)
    assert_problem(queue.request("DELETE", "/v1/messages/garbage"), 404)


def test_delete_of_a_delivered_message_is_409(gateway, smtp_peer):
    relay = smtp_peer()
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}"})
    accepted = node.send(message())
    assert node.wait_final(accepted["id"])["recipients"][0]["status"] == "delivered"
    assert_problem(node.request("DELETE", f"/v1/messages/{accepted['id']}"), 409)
    stored = node.message(accepted["id"])
    assert stored["status"] == "complete"
    recipient = stored["recipients"][0]
    assert recipient["attempts"] == 1 and recipient["next_attempt_at"] is None
    assert recipient["last_response"]["code"] == 250 and recipient["last_response"]["host"] == "127.0.0.1"
    [event] = stored["events"]
    assert event["id"].startswith("evt_") and event["type"] == "delivered" and event["recipient"] == "bob@example.org"
    assert event["webhook"] == {"status": "none", "attempts": 0}, "no webhook URL: nothing to post"


def test_scheduled_message_is_sent_once_due(gateway, smtp_peer):
    relay = smtp_peer()
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}"})
    due = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=3)
    accepted = node.send(message(send_at=due.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert node.message(accepted["id"])["status"] == "scheduled"
    assert relay.messages() == []
    recipient = node.wait_final(accepted["id"], timeout=20)["recipients"][0]
    assert recipient["status"] == "delivered"
    assert datetime.datetime.fromisoformat(recipient["updated_at"].replace("Z", "+00:00")) >= due
    assert len(relay.messages()) == 1


# -- metrics


SPEC_METRICS = [
    "mailgate_http_requests_total", "mailgate_http_request_duration_seconds_bucket", "mailgate_http_request_duration_seconds_count",
    "mailgate_messages_accepted_total", "mailgate_queue_oldest_deferred_seconds",
    "mailgate_smtp_transaction_duration_seconds_bucket", "mailgate_smtp_transaction_duration_seconds_count",
] + [f'mailgate_recipients_total{{outcome="{o}"}}' for o in ["delivered", "deferred", "bounced", "failed", "canceled"]] \
  + [f'mailgate_queue_recipients{{status="{s}"}}' for s in ["queued", "scheduled", "deferred", "delivered", "bounced", "failed", "canceled"]] \
  + [f'mailgate_webhook_posts_total{{result="{r}"}}' for r in ["success", "failure", "dropped"]]


def series(values, name):
    """The value of the series named `name` (labels included), 0 when absent."""
    return values.get(name, 0.0)


def test_metrics_name_every_series_of_the_spec(gateway):
    node = gateway()
    response = node.request("GET", "/metrics")
    assert response.status == 200
    assert response.header("Content-Type").startswith("text/plain")
    names = set(node.metrics())
    for name in SPEC_METRICS:
        assert name in names or any(n.startswith(name + "{") for n in names), f"{name} missing from /metrics"
    assert re.search(r"^# TYPE mailgate_http_request_duration_seconds histogram$", response.body.decode(), re.M)


def test_metrics_move_as_messages_flow(gateway, smtp_peer):
    relay = smtp_peer({"rcpt": {"gone@example.org": "550 5.1.1 no such user"}})
    node = gateway(env={"MAILGATE_RELAY": f"smtp://127.0.0.1:{relay.port}"})
    accepted_route = '{route="/v1/messages",status="202"}'
    before = node.metrics()
    accepted = node.send(message(to=["bob@example.org", "gone@example.org"]))
    node.request("POST", "/v1/messages", json_body=message(to="broken"))
    node.wait_final(accepted["id"])
    after = wait_until(lambda: (v := node.metrics()) and series(v, 'mailgate_recipients_total{outcome="bounced"}') >= 1 and v,
                       timeout=10, what="the bounce to be counted")
    assert series(after, "mailgate_messages_accepted_total") - series(before, "mailgate_messages_accepted_total") == 1
    assert series(after, "mailgate_http_requests_total" + accepted_route) - series(before, "mailgate_http_requests_total" + accepted_route) == 1
    assert series(after, 'mailgate_http_requests_total{route="/v1/messages",status="422"}') == 1
    assert series(after, 'mailgate_recipients_total{outcome="delivered"}') == 1
    assert series(after, 'mailgate_recipients_total{outcome="bounced"}') == 1
    assert series(after, "mailgate_smtp_transaction_duration_seconds_count") >= 1
    assert series(after, 'mailgate_queue_recipients{status="delivered"}') == 1
    assert series(after, "mailgate_http_request_duration_seconds_count") > series(before, "mailgate_http_request_duration_seconds_count")
