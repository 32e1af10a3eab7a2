#!/usr/bin/env python3
"""Deliveries per second of the events feed, end to end, under `wrangler dev` (the only local
runtime with a queue broker): COUNT new shoppers follow on LINE (signed webhooks, 8 at a time),
each causing two events (member.created, member.consent.granted); the local receiver
(scripts/feed_receiver.py, which verifies every delivery with the standardwebhooks library)
counts what arrives. Prints the webhooks' rate, the deliveries' rate from the first webhook to the
last delivery, and the duplicates. Then replays the same range to a fresh endpoint: the rate of
the consumer alone (log pages read, deliveries fanned out, signed and POSTed).

Usage: feed_deliveries.py BASE ADMIN_TOKEN LINE_SECRET RECEIVER_BASE COUNT"""
import base64, hashlib, hmac, json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, token, line_secret, receiver, count = sys.argv[1:6]
count = int(count)


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


admin = {"authorization": f"Bearer {token}", "content-type": "application/json"}
_, created = call("POST", f"{base}/api/admin/feeds",
                  json.dumps({"url": f"{receiver}/feed"}).encode(), admin)
feed = json.loads(created)
call("POST", f"{receiver}/_control", json.dumps({"secrets": [feed["secret"]]}).encode(),
     {"content-type": "application/json"})

now_ms = int(time.time() * 1000)
run = f"{now_ms:x}"


def follow(i):
    body = json.dumps({"destination": "Ubench", "events": [{
        "type": "follow", "mode": "active", "timestamp": now_ms + i,
        "source": {"type": "user", "userId": f"Ufeed{run}x{i}"},
        "webhookEventId": f"01FEED{run}{i:08d}", "replyToken": f"rt{i}",
        "deliveryContext": {"isRedelivery": False}, "follow": {"isUnblocked": False}}]},
        separators=(",", ":")).encode()
    sig = base64.b64encode(hmac.new(line_secret.encode(), body, hashlib.sha256).digest()).decode()
    status, _ = call("POST", f"{base}/webhooks/line", body,
                     {"content-type": "application/json", "x-line-signature": sig})
    return status


started = time.time()
with ThreadPoolExecutor(8) as pool:
    statuses = list(pool.map(follow, range(count)))
sent_s = time.time() - started
assert all(s == 200 for s in statuses), statuses[:10]

want = 2 * count
deadline = time.time() + 600
while True:
    _, got = call("GET", f"{receiver}/_received")
    got = json.loads(got)
    mine = [d for d in got["deliveries"] if d["answered"] == 204]
    ids = {d["id"] for d in mine}
    if len(ids) >= want or time.time() > deadline:
        break
    time.sleep(0.5)
done_s = time.time() - started
call("DELETE", f"{base}/api/admin/feeds/{feed['id']}", None, admin)
# The range of every event of the run (members are created when processed, after `now_ms`).
first = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms / 1000 - 1))
last = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
_, exported = call("GET", f"{base}/api/admin/export?from={first}&to={last}", None, admin)
in_range = len(exported.splitlines())
print(f"feed: {count} signed follows in {sent_s:.1f}s ({count / sent_s:.0f}/s); "
      f"{len(ids)}/{want} events delivered and verified {done_s:.1f}s after the first webhook: "
      f"{len(mine) / done_s:.0f} deliveries/s end to end; "
      f"{len(mine) - len(ids)} duplicate(s); {got['rejected']} rejected by the receiver")

# The consumer alone: the same events replayed to a new endpoint.
_, created = call("POST", f"{base}/api/admin/feeds",
                  json.dumps({"url": f"{receiver}/replay"}).encode(), admin)
replayed = json.loads(created)
call("POST", f"{receiver}/_control", json.dumps({"secrets": [replayed["secret"]]}).encode(),
     {"content-type": "application/json"})
call("POST", f"{receiver}/_reset", b"", {})
started = time.time()
call("POST", f"{base}/api/admin/feeds/{replayed['id']}/replay",
     json.dumps({"from": first, "to": last}).encode(), admin)
deadline = time.time() + 600
while True:
    _, got = call("GET", f"{receiver}/_received")
    ids = {d["id"] for d in json.loads(got)["deliveries"] if d["answered"] == 204}
    if len(ids) >= in_range or time.time() > deadline:
        break
    time.sleep(0.2)
took = time.time() - started
call("DELETE", f"{base}/api/admin/feeds/{replayed['id']}", None, admin)
print(f"feed replay: {len(ids)}/{in_range} events (the export of the range) to a new endpoint in {took:.1f}s: "
      f"{len(ids) / took:.0f} deliveries/s (the consumer alone)")
