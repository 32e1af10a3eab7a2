#!/usr/bin/env python3
"""Counts the till benchmark's redemptions back through the admin access export: how many each
member holds, and whether any coupon was redeemed twice for one member (a double).
Usage: count_redemptions.py BASE ADMIN_TOKEN MEMBERS_FILE"""
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, admin, members_file = sys.argv[1:4]
numbers = [n.strip() for n in open(members_file) if n.strip()]


def redemptions(number):
    req = urllib.request.Request(f"{base}/api/admin/members/{number}",
                                 headers={"authorization": f"Bearer {admin}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return [x["coupon_id"] for x in json.load(r)["member"]["redemptions"]]


with ThreadPoolExecutor(16) as pool:
    held = list(pool.map(redemptions, numbers))
total = sum(len(h) for h in held)
doubles = sum(len(h) - len(set(h)) for h in held)
print(f"{total} {doubles}")
