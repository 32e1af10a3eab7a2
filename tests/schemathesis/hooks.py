"""Schemathesis hooks of `scripts/schemathesis.sh`: what openapi.yaml cannot state.

JSON Schema describes each value on its own. A few rules of the API relate a value to another
one or to stored data; openapi.yaml states them in words and documents the answer that enforces
them. So that schemathesis's *positive* cases (schema-valid requests, which must be accepted)
obey those rules too, `before_call` adjusts them right before they are sent — and only them:
negative cases (which must be rejected) are left as generated. schemathesis re-classifies every
case by what is actually sent.

- a member number's last digit is its Luhn check digit (else 400 `invalid_member_number`);
- a coupon's `valid_until` is after its `valid_from`, neither before 1970-01-01T00:00:00Z (else
  422 `invalid_window` / `invalid_valid_from` / `invalid_valid_until`), and its `stores` exist
  (else 422 `unknown_store`);
- a store's time zone is one the runtime knows (else 422 `invalid_timezone`);
- the stats range: `from` not after `to`, at most 92 days (else 400 `invalid_range`);
- the stats `store` is a store that exists (else 404 `not_found`);
- the feed's export and replay ranges: `to` after `from`, at most 366 days, not before 1970
  (else 400 `invalid_range`);
- a till's `code` is a barcode signed with the Worker's key (else 422 `invalid_code`), and the
  coupon redeemed with a member's barcode is one of the seeded coupons valid at the till's store.

The documented example of a member number becomes, in the examples phase, a member the script
seeded: one for the access export, another one for erasure. And the seeded data the POS
requests rely on (the member, the POS key, its store and coupon) is never erased, revoked or
overwritten by another request.

Environment (set by scripts/schemathesis.sh): ST_STORES (comma-separated seeded store ids),
ST_MEMBER_GET, ST_MEMBER_DELETE (member numbers), ST_MEMBER_CODE (a member barcode),
ST_POS_STORE and ST_POS_KEY_ID (the POS key's store and id), ST_POS_COUPONS (comma-separated
coupon ids redeemable at that store).
"""

from __future__ import annotations

import datetime as dt
import os
import re

import schemathesis

STORES = [s for s in os.environ.get("ST_STORES", "").split(",") if s]
MEMBER_GET = os.environ.get("ST_MEMBER_GET", "")
MEMBER_DELETE = os.environ.get("ST_MEMBER_DELETE", "")
MEMBER_CODE = os.environ.get("ST_MEMBER_CODE", "")
POS_COUPONS = [c for c in os.environ.get("ST_POS_COUPONS", "").split(",") if c]
POS_STORE = os.environ.get("ST_POS_STORE", "")
POS_KEY_ID = os.environ.get("ST_POS_KEY_ID", "")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_STATS_DAYS = 92
# Zones every runtime's time-zone data has; a generated name of the right shape is mapped to one.
KNOWN_ZONES = ["Asia/Tokyo", "Europe/Paris", "America/New_York", "UTC", "Australia/Sydney"]


def _positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _is(case, method: str, path: str) -> bool:
    return case.operation.method.upper() == method and case.operation.path == path


def luhn_digit(body: str) -> str:
    """The digit that makes `body + digit` pass the Luhn check (as src/ids.rs computes it)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def _instant(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware datetime (leap second 60 counts as 59, as the Worker does)."""
    m = _DATETIME.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    if off in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        sign = 1 if off[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(s), 59), micro, tzinfo=tz)
    except (ValueError, OverflowError):
        return None


def _rfc3339(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fix_coupon(body: dict) -> None:
    start, end = _instant(body.get("valid_from", "")), _instant(body.get("valid_until", ""))
    if start is None or end is None:
        return
    start, end = max(start, EPOCH), max(end, EPOCH)
    if end < start:
        start, end = end, start
    if end == start:
        end = start + dt.timedelta(days=1)
    body["valid_from"], body["valid_until"] = _rfc3339(start), _rfc3339(end)
    if isinstance(body.get("stores"), list) and STORES:
        body["stores"] = STORES[: max(1, min(len(body["stores"]), len(STORES)))]


def _fix_stats(query: dict) -> None:
    if isinstance(query.get("store"), str) and STORES:
        query["store"] = STORES[len(query["store"]) % len(STORES)]

    def day(name):
        try:
            return dt.date.fromisoformat(query[name]) if name in query else None
        except (TypeError, ValueError):
            return None

    start, end = day("from"), day("to")
    if start is None and end is None:
        return
    start, end = start or end, end or start
    if end < start:
        start, end = end, start
    if (end - start).days >= MAX_STATS_DAYS:
        # `end` is further than this, so the new end is a real day too.
        end = start + dt.timedelta(days=MAX_STATS_DAYS - 1)
    query["from"], query["to"] = start.isoformat(), end.isoformat()


MAX_RANGE = dt.timedelta(days=366)


def _fix_range(values: dict) -> None:
    """An export or replay range as the Worker reads it: a day is its start as `from` and its
    end (the next midnight) as `to`; written back as instants so `to` comes after `from`."""

    def bound(name, end):
        text = values.get(name)
        if not isinstance(text, str):
            return None
        instant = _instant(text)
        if instant is not None:
            return instant
        try:
            day = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None
        if day is None:
            return None
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        return start + dt.timedelta(days=1) if end else start

    start, end = bound("from", False), bound("to", True)
    if start is None or end is None:
        return
    start, end = max(start, EPOCH), max(end, EPOCH)
    if end < start:
        start, end = end, start
    if end - start < dt.timedelta(seconds=1):
        end = start + dt.timedelta(hours=1)
    if end - start > MAX_RANGE:
        end = start + MAX_RANGE
    values["from"], values["to"] = _rfc3339(start), _rfc3339(end)


@schemathesis.hook
def before_call(context, case, kwargs):
    """Right before each request, in every phase (stateful sequences included): schemathesis
    then re-classifies the case by what is actually sent."""
    path, method = case.operation.path, case.operation.method.upper()
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    # Seeded data the other requests rely on is never erased, revoked or replaced; a stateful
    # sequence may well find it (lists link to it).
    if method == "DELETE" and path == "/api/admin/members/{member_number}" and MEMBER_GET:
        if params.get("member_number") == MEMBER_GET:
            params["member_number"] = MEMBER_DELETE or "000000000018"
    if method == "DELETE" and path.endswith("/pos-keys/{key_id}") and POS_KEY_ID:
        if params.get("key_id") == POS_KEY_ID:
            params["key_id"] = "aaaaaaaa"
    if method == "PUT" and path == "/api/admin/coupons/{coupon_id}":
        if params.get("coupon_id") in POS_COUPONS:
            params["coupon_id"] = "st-other"
    if method == "PUT" and path == "/api/admin/stores/{store_id}" and params.get("store_id") == POS_STORE:
        params["store_id"] = "st-other"
    # A stateful link from a nullable field (the stats row of changes with no store has
    # `store_id: null`) hands the next request Python's None, which schemathesis writes as the
    # text "None": an artefact of the tester, not a request any client makes.
    for name, value in list(params.items()):
        if value is None and name == "store_id":
            params[name] = POS_STORE or "shibuya"
    if not _positive(case):
        return
    if path == "/api/admin/members/{member_number}":
        number = str(params.get("member_number", ""))
        if re.fullmatch(r"[0-9]{12}", number):
            params["member_number"] = number[:11] + luhn_digit(number[:11])
    elif _is(case, "PUT", "/api/admin/coupons/{coupon_id}") and isinstance(case.body, dict):
        _fix_coupon(case.body)
    elif _is(case, "PUT", "/api/admin/stores/{store_id}") and isinstance(case.body, dict):
        zone = case.body.get("timezone")
        if isinstance(zone, str) and zone not in KNOWN_ZONES:
            case.body["timezone"] = KNOWN_ZONES[len(zone) % len(KNOWN_ZONES)]
    elif _is(case, "GET", "/api/admin/stats") and isinstance(case.query, dict):
        _fix_stats(case.query)
    elif _is(case, "GET", "/api/admin/export") and isinstance(case.query, dict):
        _fix_range(case.query)
    elif path == "/api/admin/feeds/{id}/replay" and isinstance(case.body, dict):
        _fix_range(case.body)
    elif path in ("/api/pos/scan", "/api/pos/redeem") and isinstance(case.body, dict):
        if MEMBER_CODE and "code" in case.body:
            case.body["code"] = MEMBER_CODE
        if path == "/api/pos/redeem" and POS_COUPONS and "coupon_id" in case.body:
            coupon = str(case.body["coupon_id"])
            case.body["coupon_id"] = POS_COUPONS[len(coupon) % len(POS_COUPONS)]


@schemathesis.hook
def before_add_examples(context, examples):
    """A documented member number becomes a seeded member (the other phases generate theirs)."""
    operation = context.operation
    if operation is None:
        return
    seeded = {"GET": MEMBER_GET, "DELETE": MEMBER_DELETE}.get(operation.method.upper())
    if operation.path == "/api/admin/members/{member_number}" and seeded:
        for case in examples:
            if case.path_parameters:
                case.path_parameters["member_number"] = seeded
