"""Validates consent receipts against the Kantara Initiative's published Consent Receipt v1.1
JSON Schema with the reference Python validator (`jsonschema`), independently of the Worker.

Usage: validate.py < receipts.json   (a JSON array of receipts)
Prints one JSON line: {"checked": N, "errors": [[index, path, message], ...]}; exits 1 on any error.
"""

import json
import pathlib
import sys

from jsonschema import Draft4Validator

HERE = pathlib.Path(__file__).parent
# The published file opens with `//` comment lines, which JSON does not allow: they are dropped.
raw = (HERE / "kantara-consent-receipt-v1_1-schema.json").read_text(encoding="utf-8")
schema = json.loads("\n".join(l for l in raw.splitlines() if not l.lstrip().startswith("//")))
Draft4Validator.check_schema(schema)
validator = Draft4Validator(schema)

receipts = json.load(sys.stdin)
errors = [
    [i, "/".join(str(p) for p in e.absolute_path), e.message]
    for i, receipt in enumerate(receipts)
    for e in validator.iter_errors(receipt)
]
print(json.dumps({"checked": len(receipts), "errors": errors}))
sys.exit(1 if errors or not receipts else 0)
