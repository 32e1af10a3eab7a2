"""Independent checks of the wallet cards, for the e2e tests (tests/e2e/wallet.rs).

  check.py pkpass FILE CA_PEM     unzips with zipfile, recomputes every manifest SHA-1, verifies
                                  `signature` with `openssl cms -verify` against the test CA,
                                  prints {"pass": pass.json, "strings": {lang: {key: value}},
                                  "files": [...], "signing_time": bool, "certificates": n}
  check.py jwt TOKEN PUB_PEM AUD  verifies an RS256 JWT with PyJWT, prints its claims

Exits non-zero with a message on any failure.
"""

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def parse_strings(data: bytes) -> dict:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8")
    pairs = re.findall(r'"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)"\s*;', text)
    unescape = lambda s: s.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return {unescape(k): unescape(v) for k, v in pairs}


def pkpass(path: str, ca: str):
    with zipfile.ZipFile(path) as z:
        if z.testzip() is not None:
            fail("a zip entry's CRC is wrong")
        names = z.namelist()
        files = {n: z.read(n) for n in names}
    for required in ["pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "logo.png"]:
        if required not in files:
            fail(f"{required} missing from the pass: {names}")
    manifest = json.loads(files["manifest.json"])
    for name, data in files.items():
        if name in ("manifest.json", "signature"):
            continue
        if manifest.get(name) != hashlib.sha1(data).hexdigest():
            fail(f"manifest hash of {name} is wrong")
    if set(manifest) != set(files) - {"manifest.json", "signature"}:
        fail("the manifest does not list exactly the pass's files")
    with tempfile.TemporaryDirectory() as d:
        Path(d, "manifest.json").write_bytes(files["manifest.json"])
        Path(d, "signature").write_bytes(files["signature"])
        verify = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{d}/signature",
             "-content", f"{d}/manifest.json", "-CAfile", ca, "-purpose", "any", "-out", "/dev/null"],
            capture_output=True, text=True)
        if verify.returncode != 0:
            fail(f"openssl cms -verify failed: {verify.stderr}")
        printed = subprocess.run(
            ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", f"{d}/signature"],
            capture_output=True, text=True, check=True).stdout
    strings = {n.split(".lproj/")[0]: parse_strings(files[n]) for n in names if n.endswith(".lproj/pass.strings")}
    print(json.dumps({
        "pass": json.loads(files["pass.json"]),
        "strings": strings,
        "files": names,
        "signing_time": "signingTime" in printed,
        "certificates": printed.count("cert_info:"),
    }))


def verify_jwt(token: str, pub: str, aud: str):
    import jwt  # PyJWT

    claims = jwt.decode(token, Path(pub).read_text(), algorithms=["RS256"], audience=aud,
                        options={"verify_exp": True, "verify_iat": True})
    print(json.dumps(claims))


if __name__ == "__main__":
    if sys.argv[1] == "pkpass":
        pkpass(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "jwt":
        verify_jwt(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail(__doc__)
