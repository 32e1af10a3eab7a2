#!/usr/bin/env bash
# Local wallet keys for `make dev` and the tests, in .wallet-dev/ (git ignores it; never
# committed, never used in production):
#   ca.pem / ca.key        a test CA playing Apple's WWDR intermediate
#   pass.pem / pass.key    a Pass Type ID certificate it issued, and its PKCS#8 RSA key
#   google.json            a Google service account JSON key (client_email, private_key)
#   google.pub.pem         its public key, for verifying JWTs independently
#   wallet.env             the settings, one line each (PEM newlines written as \n)
# Idempotent: existing keys are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.wallet-dev
mkdir -p "$dir"
cd "$dir"
if [ ! -f pass.pem ] || [ ! -f google.json ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/O=Test Apple Worldwide Developer Relations/CN=Test WWDR Certification Authority" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out pass.key 2>/dev/null
  openssl req -new -key pass.key -out pass.csr -subj "/UID=pass.example.optin.members/CN=Pass Type ID: pass.example.optin.members/OU=OPTINTEAM1/O=Demo Retail" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >pass.ext
  openssl x509 -req -in pass.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out pass.pem -days 3650 -extfile pass.ext 2>/dev/null
  rm -f pass.csr pass.ext ca.srl
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out google.key 2>/dev/null
  openssl pkey -in google.key -pubout -out google.pub.pem 2>/dev/null
  python3 - <<'PY'
import json
key = open("google.key").read()
json.dump({"type": "service_account", "project_id": "demo-optin",
           "client_email": "wallet@demo-optin.iam.gserviceaccount.com",
           "private_key": key}, open("google.json", "w"))
PY
fi
oneline() { awk 'BEGIN{ORS="\\n"} {print}' "$1"; }
{
  echo "APPLE_PASS_TYPE_ID=pass.example.optin.members"
  echo "APPLE_TEAM_ID=OPTINTEAM1"
  echo "APPLE_PASS_CERT=$(oneline pass.pem)"
  echo "APPLE_PASS_KEY=$(oneline pass.key)"
  echo "APPLE_WWDR_CERT=$(oneline ca.pem)"
  echo "GOOGLE_WALLET_ISSUER_ID=3388000000012345678"
  echo "GOOGLE_WALLET_SERVICE_ACCOUNT=$(tr -d '\n' <google.json)"
} >wallet.env
echo "    wallet keys in $dir (test CA, pass certificate, service account)"
