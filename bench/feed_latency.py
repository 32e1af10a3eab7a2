#!/usr/bin/env python3
"""Delivery latency of the events feed, cause → first attempt and cause → delivered, for three
receivers side by side, as they are in the wild: a healthy one, one that fails the first try of
one event in five, and one that sends its headers and then trickles its body
(scripts/feed_receiver.py modes `ok`, `flaky`, `trickle`). COUNT new shoppers follow on LINE at
RATE a second, each causing two events; every receiver verifies what it gets with the
standardwebhooks library. The cause is the event's own `time`.

Usage: feed_latency.py BASE ADMIN_TOKEN LINE_SECRET PYTHON COUNT RATE"""
import base64, hashlib, hmac, json, socket, subprocess, sys, time, urllib.request

base, token, line_secret, python, count, rate = sys.argv[1:7]
count, rate = int(count), float(rate)
admin = {"authorization": f"Bearer {token}", "content-type": "application/json"}


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


receivers = {}
for mode in ["ok", "flaky", "trickle"]:
    port = free_port()
    proc = subprocess.Popen([python, "scripts/feed_receiver.py", "--port", str(port), "--quiet"],
                            stdout=subprocess.DEVNULL)
    rx = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            call("GET", f"{rx}/_received")
            break
        except OSError:
            time.sleep(0.1)
    _, created = call("POST", f"{base}/api/admin/feeds", json.dumps({"url": f"{rx}/feed"}).encode(), admin)
    feed = json.loads(created)
    call("POST", f"{rx}/_control", json.dumps({"secrets": [feed["secret"]], "mode": mode}).encode(),
         {"content-type": "application/json"})
    receivers[mode] = (rx, feed["id"], proc)

now_ms = int(time.time() * 1000)
run = f"{now_ms:x}"
started = time.time()
for i in range(count):
    body = json.dumps({"destination": "Ubench", "events": [{
        "type": "follow", "mode": "active", "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": f"Ulat{run}x{i}"},
        "webhookEventId": f"01LAT{run}{i:08d}", "replyToken": f"rt{i}",
        "deliveryContext": {"isRedelivery": False}, "follow": {"isUnblocked": False}}]},
        separators=(",", ":")).encode()
    sig = base64.b64encode(hmac.new(line_secret.encode(), body, hashlib.sha256).digest()).decode()
    call("POST", f"{base}/webhooks/line", body, {"content-type": "application/json", "x-line-signature": sig})
    time.sleep(max(0.0, started + (i + 1) / rate - time.time()))

want = 2 * count


def seen(rx):
    _, got = call("GET", f"{rx}/_received")
    return [d for d in json.loads(got)["deliveries"] if (d.get("time_ms") or 0) >= now_ms - 1000]


deadline = time.time() + 120
while time.time() < deadline:
    delivered = {m: {d["id"] for d in seen(rx) if d["answered"] < 300} for m, (rx, _, _) in receivers.items()}
    if len(delivered["ok"]) >= want and len(delivered["flaky"]) >= want:
        break
    time.sleep(0.5)
time.sleep(3)


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


print(f"\nfeed delivery latency: {count} new shoppers at {rate:g}/s ({want} events); ms from the event's time")
print(f"{'receiver':<10} {'first attempt p50':>18} {'p99':>8} {'delivered p50':>14} {'p99':>8} {'delivered':>10}")
for mode, (rx, feed_id, proc) in receivers.items():
    first, done = {}, {}
    for d in seen(rx):
        late = d["received_at_ms"] - d["time_ms"]
        first[d["id"]] = min(first.get(d["id"], late), late)
        # A trickling receiver logs 200 before its body, which never finishes: nothing there
        # is delivered.
        if d["answered"] < 300 and mode != "trickle":
            done[d["id"]] = min(done.get(d["id"], late), late)
    print(f"{mode:<10} {pct(list(first.values()), 50):>18.0f} {pct(list(first.values()), 99):>8.0f} "
          f"{pct(list(done.values()), 50):>14.0f} {pct(list(done.values()), 99):>8.0f} {len(done):>5}/{want}")
    call("DELETE", f"{base}/api/admin/feeds/{feed_id}", None, admin)
    proc.terminate()
print("(trickle: its answers never finish, so nothing is delivered there; what counts is how much"
      " it holds back the others)")
