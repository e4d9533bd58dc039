#!/usr/bin/env bash
# Regenerates the certificate fixtures of tests/unit/protocols/certificate_test.cpp
# and tests/unit/gateway/cert_watch_test.cpp. The tests assert these exact
# validity dates, so the files are committed and this script is needed only
# to change them:
#
#   valid-2030.crt  CN=foggate-gateway, 2025-01-01 00:00:00 .. 2030-06-15 12:00:00 UTC
#   valid-2030.der  the same certificate in DER
#   bundle.crt      two certificates: CN=foggate-bundle-2031 (notAfter 2031-01-01 00:00:00)
#                   then CN=foggate-bundle-2029 (notAfter 2029-03-01 00:00:00)
#   not-a-cert.crt  text that is not a certificate
#
# All EC P-256, self-signed. `openssl ca -selfsign` is the one way OpenSSL
# 3.0 sets an exact notBefore/notAfter (`x509 -req` takes only -days). The
# keys are thrown away with the temporary directory: nothing here signs.
#
#   tests/data/certs/make.sh     (writes next to itself)
set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/foggate-certs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/newcerts"
: >"$WORK/index.txt"

# Only this config, so the system openssl.cnf adds nothing.
cat >"$WORK/openssl.cnf" <<CNF
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ext ]
basicConstraints = critical,CA:FALSE
[ ca ]
default_ca = fixture_ca
[ fixture_ca ]
database = $WORK/index.txt
new_certs_dir = $WORK/newcerts
serial = $WORK/serial
default_md = sha256
policy = any_policy
unique_subject = no
email_in_dn = no
[ any_policy ]
commonName = supplied
CNF

# openssl is chatty on stderr even when it succeeds; show it only on failure.
ossl() {
  openssl "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
}

make_cert() {  # CN startdate enddate out
  ossl req -new -config "$WORK/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -noenc -keyout "$WORK/key.pem" -subj "/CN=$1" -out "$WORK/req.csr"
  ossl ca -batch -selfsign -config "$WORK/openssl.cnf" -rand_serial -notext \
    -keyfile "$WORK/key.pem" -in "$WORK/req.csr" -startdate "$2" -enddate "$3" \
    -extensions ext -out "$4"
}

make_cert foggate-gateway 20250101000000Z 20300615120000Z "$DIR/valid-2030.crt"
ossl x509 -in "$DIR/valid-2030.crt" -outform DER -out "$DIR/valid-2030.der"
make_cert foggate-bundle-2031 20250101000000Z 20310101000000Z "$WORK/a.crt"
make_cert foggate-bundle-2029 20250101000000Z 20290301000000Z "$WORK/b.crt"
cat "$WORK/a.crt" "$WORK/b.crt" >"$DIR/bundle.crt"
printf 'This is not a certificate.\nJust a line of text where a PEM bundle should be.\n' \
  >"$DIR/not-a-cert.crt"
