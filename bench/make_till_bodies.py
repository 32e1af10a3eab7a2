#!/usr/bin/env python3
"""Prepares the till benchmark against a running Worker, independently of its code: makes
MEMBERS members (signed LINE follows, posted 16 at a time), COUPONS coupons valid at the Umeda
store only (so the demo card measured at Shibuya keeps its two coupons) and a POS key for the
Umeda till; computes each member's number (HMAC chain of core/src/consent/ledger.rs) and
signs their barcodes (layout of core/src/codes/barcode.rs) with Python's hmac; writes
  pos-scan.tsv    `Bearer key<TAB>{"code"}`, one line per member
  pos-redeem.tsv  one line per (member, coupon): every request a distinct redemption
  till-members.txt  the member numbers, for the count-back
Usage: make_till_bodies.py OUT BASE ADMIN_TOKEN LINE_SECRET PSEUDONYM_KEY SIGNING_KEYS"""
import base64, hashlib, hmac, json, os, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

out, base, admin, line_secret, pseudonym_key, signing_keys = sys.argv[1:7]
members_n = int(os.environ.get("MEMBERS", "1000"))
coupons_n = int(os.environ.get("COUPONS", "40"))
now = int(time.time())


def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


auth = {"authorization": f"Bearer {admin}", "content-type": "application/json"}
day = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
for j in range(coupons_n):
    call("PUT", f"/api/admin/coupons/bench-{j:02d}", {
        "title": {"en": f"Bench coupon {j}"}, "valid_from": day(now - 86400),
        "valid_until": day(now + 86400), "stores": ["umeda"], "requires_consent": False}, auth)
_, key_body = call("POST", "/api/admin/stores/umeda/pos-keys", {"label": "bench"}, auth)
pos_key = json.loads(key_body)["key"]

users = [f"Utill{now}x{i}" for i in range(members_n)]


def follow(i):
    body = json.dumps({"destination": "Ubench", "events": [{
        "type": "follow", "mode": "active", "timestamp": now * 1000 + i,
        "source": {"type": "user", "userId": users[i]},
        "webhookEventId": f"01TILL{now}{i:08d}", "replyToken": f"tr{i}",
        "deliveryContext": {"isRedelivery": False}, "follow": {"isUnblocked": False}}]},
        separators=(",", ":")).encode()
    sig = base64.b64encode(hmac.new(line_secret.encode(), body, hashlib.sha256).digest()).decode()
    req = urllib.request.Request(base + "/webhooks/line", data=body, method="POST",
                                 headers={"content-type": "application/json", "x-line-signature": sig})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200, r.status


with ThreadPoolExecutor(16) as pool:
    list(pool.map(follow, range(members_n)))


def luhn(body):
    total, double = 0, True
    while body > 0:
        d = body % 10
        if double:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
        double = not double
        body //= 10
    return (10 - total % 10) % 10


def member_number(user):
    tag = hmac.new(pseudonym_key.encode(), b"member\0" + f"line:{user}".encode() + (0).to_bytes(4, "big"),
                   hashlib.sha256).digest()
    body = int.from_bytes(tag[:8], "big") % 10**11
    return f"{body * 10 + luhn(body):012d}"


kid, key_b64 = signing_keys.split(",")[0].split(":", 1)
signing_key = base64.b64decode(key_b64)


def barcode(number):
    body = b"B" + bytes([len(kid)]) + kid.encode() + int(number).to_bytes(5, "big")
    body += (now + 86400).to_bytes(4, "big") + b"\x00"
    tag = hmac.new(signing_key, body, hashlib.sha256).digest()[:10]
    return base64.b32encode(body + tag).decode().rstrip("=")


numbers = [member_number(u) for u in users]
codes = [barcode(n) for n in numbers]
bearer = f"Bearer {pos_key}"
with open(f"{out}/till-members.txt", "w") as f:
    f.write("\n".join(numbers) + "\n")
with open(f"{out}/pos-scan.tsv", "w") as f:
    for c in codes:
        f.write(f"{bearer}\t{json.dumps({'code': c}, separators=(',', ':'))}\n")
with open(f"{out}/pos-redeem.tsv", "w") as f:
    for j in range(coupons_n):
        for i, c in enumerate(codes):
            body = {"code": c, "coupon_id": f"bench-{j:02d}", "transaction_id": f"B{now}-{j}-{i}",
                    "register_id": "BENCH"}
            f.write(f"{bearer}\t{json.dumps(body, separators=(',', ':'))}\n")
print(f"{members_n} members, {coupons_n} coupons, {members_n * coupons_n} distinct redemptions prepared")
