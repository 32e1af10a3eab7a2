#!/usr/bin/env python3
"""Pre-signs webhook bodies for the benchmark (HMAC by Python's hmac module, independent of the
Worker): one `signature<TAB>body` per line, each a distinct event from a distinct shopper, so
every request really writes to the ledger. Usage: make_bodies.py OUT_DIR COUNT"""
import base64, hashlib, hmac, json, sys, time

out, count = sys.argv[1], int(sys.argv[2])
line_secret = sys.argv[3].encode()
meta_secret = sys.argv[4].encode()
now_ms = int(time.time() * 1000)

def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)

with open(f"{out}/line-follow.tsv", "w") as f:
    for i in range(count):
        body = compact({"destination": "Ubench", "events": [{
            "type": "follow", "mode": "active", "timestamp": now_ms + i,
            "source": {"type": "user", "userId": f"Ubench{now_ms}x{i}"},
            "webhookEventId": f"01BENCH{now_ms}{i:08d}", "replyToken": f"rt{i}",
            "deliveryContext": {"isRedelivery": False}, "follow": {"isUnblocked": False}}]})
        sig = base64.b64encode(hmac.new(line_secret, body.encode(), hashlib.sha256).digest()).decode()
        f.write(f"{sig}\t{body}\n")

def meta_sig(body):
    return "sha256=" + hmac.new(meta_secret, body.encode(), hashlib.sha256).hexdigest()

with open(f"{out}/whatsapp-join.tsv", "w") as f:
    for i in range(count):
        wa = f"1555{now_ms % 100000:05d}{i:07d}"
        body = compact({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa}],
                "messages": [{"from": wa, "id": f"wamid.BENCH{now_ms}{i:08d}", "timestamp": str(now_ms // 1000 + i),
                              "type": "text", "text": {"body": "JOIN"}}]}}]}]})
        f.write(f"{meta_sig(body)}\t{body}\n")

with open(f"{out}/whatsapp-status.tsv", "w") as f:
    for i in range(1000):
        body = compact({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "statuses": [{"id": f"wamid.STATUS{i:08d}", "status": "delivered", "timestamp": str(now_ms // 1000),
                              "recipient_id": "16505551234",
                              "conversation": {"id": "c1", "origin": {"type": "marketing"}},
                              "pricing": {"billable": True, "pricing_model": "CBP", "category": "marketing"}}]}}]}]})
        f.write(f"{meta_sig(body)}\t{body}\n")

# Forged 1 MiB bodies with a bogus signature: answered 401 before any
# parsing. Non-ASCII text also goes through the check of Meta's `\uXXXX`-escaped form, once per
# configured secret; the ASCII body of the same size is the yardstick.
forged = "sha256=" + "0" * 64
for name, char in (("meta-forged-utf8.tsv", "é"), ("meta-forged-ascii.tsv", "e")):
    with open(f"{out}/{name}", "w") as f:
        filler = char * ((1024 * 1024 - 64) // len(char.encode()))
        body = json.dumps({"object": "whatsapp_business_account", "text": filler},
                          separators=(",", ":"), ensure_ascii=False)
        # One line per wrk thread (each thread takes every THREADS-th line).
        for _ in range(8):
            f.write(f"{forged}\t{body}\n")
