#!/usr/bin/env python3
"""A receiver of the events feed, built on the reference libraries rather than on our code:
`standardwebhooks` verifies each delivery's signature, the CloudEvents SDK parses its envelope.

`make dev` runs it so a newcomer sees the feed working; the end-to-end tests run it to check
every delivery independently. It prints one line per event and answers:

  POST /feed/...      a delivery: 401 if no configured secret verifies it, else the current mode's
                      answer (204 by default)
  POST /_control      {"secrets": [...], "mode": "ok" | "status" | "hang" | "flaky" | "trickle"
                      | "redirect", "status": 503, "hang_secs": 15, "location": URL}: what to
                      verify with and how to answer. As receivers are in the wild:
                        flaky     the first try of one event in five answers 503
                        trickle   200 with its headers at once, then a byte every half second
                        redirect  307 to `location`
  GET  /_received     {"deliveries": [...], "rejected": n}: every verified delivery, in order,
                      each with `received_at_ms`
  POST /_reset        forgets what it received

Usage: feed_receiver.py --port 8789 [--secret whsec_...]... [--quiet]
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

STATE = {
    "secrets": [],
    "mode": "ok",
    "status": 503,
    "hang_secs": 15,
    "location": None,
    "deliveries": [],
    "first_seen": {},
    "rejected": 0,
}
LOCK = threading.Lock()
QUIET = False


def verified_with(body: bytes, headers: dict) -> list:
    """The indexes of the configured secrets under which the delivery verifies."""
    ok = []
    for i, secret in enumerate(STATE["secrets"]):
        try:
            Webhook(secret).verify(body, headers)
            ok.append(i)
        except WebhookVerificationError:
            pass
    return ok


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def _answer(self, status: int, payload=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                self._answer(
                    200,
                    {"deliveries": STATE["deliveries"], "rejected": STATE["rejected"]},
                )
        else:
            self._answer(404)

    def do_POST(self):
        body = self._body()
        if self.path == "/_control":
            with LOCK:
                STATE.update(json.loads(body or b"{}"))
            return self._answer(204)
        if self.path == "/_reset":
            with LOCK:
                STATE["deliveries"].clear()
                STATE["first_seen"].clear()
                STATE["rejected"] = 0
            return self._answer(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            secrets_ok = verified_with(body, headers)
            mode, status, hang = STATE["mode"], STATE["status"], STATE["hang_secs"]
        if not secrets_ok:
            with LOCK:
                STATE["rejected"] += 1
            if not QUIET:
                print("[feed] REJECTED: no secret verifies this delivery", flush=True)
            return self._answer(401, {"error": "signature"})
        event = from_http_event(HTTPMessage(headers=headers, body=body))
        with LOCK:
            seen = STATE["first_seen"]
            first_try = event.get_id() not in seen
            if first_try:
                seen[event.get_id()] = len(seen)
            nth = seen[event.get_id()]
            location = STATE["location"]
        answer = {
            "ok": 204,
            "status": status,
            "hang": 204,
            "flaky": 503 if first_try and nth % 5 == 0 else 204,
            "trickle": 200,
            "redirect": 307,
        }[mode]
        record = {
            "webhook_id": headers.get("webhook-id"),
            "signatures": headers.get("webhook-signature", "").split(" "),
            "verified_with": secrets_ok,
            "content_type": headers.get("content-type"),
            "id": event.get_id(),
            "type": event.get_type(),
            "source": event.get_source(),
            "time": event.get_time().isoformat() if event.get_time() else None,
            "time_ms": int(event.get_time().timestamp() * 1000) if event.get_time() else None,
            "data": event.get_data(),
            "answered": answer,
            "mode": mode,
            "received_at_ms": int(time.time() * 1000),
        }
        with LOCK:
            STATE["deliveries"].append(record)
        if not QUIET:
            data = event.get_data() or {}
            fields = " ".join(f"{k}={v}" for k, v in sorted(data.items()))
            print(f"[feed] {event.get_type()} {event.get_id()} {fields} -> {answer}", flush=True)
        if mode == "hang":
            time.sleep(hang)
        if mode == "trickle":
            return self._trickle()
        if mode == "redirect":
            self.send_response(307)
            self.send_header("location", location or "/")
            self.send_header("content-length", "0")
            self.end_headers()
            return None
        return self._answer(answer)

    def _trickle(self):
        """Headers at once, then a byte every half second of a 1 MB body (or until cut off)."""
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(1 << 20))
        self.end_headers()
        try:
            for _ in range(1 << 20):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the sender gave up: as it should


def main():
    global QUIET
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    QUIET = args.quiet
    STATE["secrets"] = args.secret
    # The default listen backlog (5) refuses connections a burst of concurrent deliveries opens.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"[feed] receiver listening on http://127.0.0.1:{args.port}/feed", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
