"""A webhook receiver for the compose demo: prints each mailgate event with the
result of checking its Standard Webhooks signature, and answers 204.

Standard library only. WEBHOOK_SECRET is the gateway's MAILGATE_WEBHOOK_SECRET
(`whsec_` + base64 key); the signature is v1,base64(HMAC-SHA256(key,
"<webhook-id>.<webhook-timestamp>.<body>")). Real receivers should also refuse
old timestamps and de-duplicate by webhook-id (delivery is at least once).
"""

import base64
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("WEBHOOK_SECRET", "")
KEY = base64.b64decode(SECRET.removeprefix("whsec_")) if SECRET else None


def signature_verdict(headers, body):
    if KEY is None:
        return "unchecked (no WEBHOOK_SECRET)"
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    presented = [part.split(",", 1)[1] for part in headers.get("webhook-signature", "").split() if part.startswith("v1,")]
    return "valid" if any(hmac.compare_digest(expected, value) for value in presented) else "INVALID"


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = json.loads(body)
            summary = f"{event.get('type')} {event.get('recipient')} {event.get('message_id')} smtp={event.get('smtp')}"
        except ValueError:
            summary = f"not JSON: {body[:200]!r}"
        print(f"webhook {self.headers.get('webhook-id')} signature {signature_verdict(self.headers, body)}: {summary}",
              flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Receiver).serve_forever()
