#!/usr/bin/env bash
# Makes a throwaway development PKI: a CA, a server certificate for a test
# broker, a client certificate for the gateway, and the bad certificates the
# TLS tests need (unrelated CA, wrong hostname, expired, expiring soon).
# The integration tests run it into a fresh directory on every run; engineers
# run it to try TLS against a local mosquitto. Development and tests only:
# the keys are unencrypted and the CA key sits next to the certificates.
# Never use these files in production (see certs/README.md).
#
#   certs/make-dev-pki.sh DIR           create the PKI in DIR (no-op if complete)
#   certs/make-dev-pki.sh --force DIR   replace whatever is there
#   FOGGATE_CLIENT_CN=gw-17 certs/make-dev-pki.sh DIR   client CN (default foggate-gateway)
#
# All keys EC P-256, all files PEM. Needs only the openssl CLI (3.0).
set -euo pipefail

usage() {
  echo "usage: $0 [--force] DIR" >&2
  echo "  creates a development PKI (CA, server, client and negative-test certificates) in DIR" >&2
}

FORCE=0
DIR=
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "make-dev-pki: unknown option: $1" >&2; usage; exit 2 ;;
    *)
      if [ -n "$DIR" ]; then echo "make-dev-pki: more than one DIR given" >&2; usage; exit 2; fi
      DIR=$1 ;;
  esac
  shift
done
if [ -z "$DIR" ]; then usage; exit 2; fi

CLIENT_CN=${FOGGATE_CLIENT_CN:-foggate-gateway}  # unset or empty: the default

# Base names; each has NAME.crt and NAME.key.
NAMES=(ca server client other-ca other-server other-client
       server-wronghost server-expired client-expiring)

present=() missing=()
for n in "${NAMES[@]}"; do
  for f in "$n.crt" "$n.key"; do
    if [ -e "$DIR/$f" ]; then present+=("$f"); else missing+=("$f"); fi
  done
done
if [ "$FORCE" = 0 ]; then
  if [ ${#missing[@]} -eq 0 ]; then
    echo "make-dev-pki: $DIR already has a PKI (use --force to replace)"
    exit 0
  fi
  # Half a PKI is most likely someone's CA plus a deleted file: replacing the
  # CA behind their back would break every broker that trusts it.
  if [ ${#present[@]} -gt 0 ]; then
    echo "make-dev-pki: $DIR has an incomplete PKI (missing: ${missing[*]}); use --force to replace it" >&2
    exit 1
  fi
fi

mkdir -p "$DIR"
umask 077
WORK=$(mktemp -d "${TMPDIR:-/tmp}/make-dev-pki.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/out
mkdir -p "$OUT" "$WORK/newcerts"
: >"$WORK/index.txt"

# One config for every openssl call, so the system openssl.cnf adds nothing.
# The [dev_ca] section is only for `openssl ca`, the one way OpenSSL 3.0 can
# write a certificate whose validity starts in the past.
cat >"$WORK/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
[ req_dn ]

[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1

[ wronghost_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example.invalid

[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
extendedKeyUsage = clientAuth

[ ca ]
default_ca = dev_ca
[ dev_ca ]
database = $WORK/index.txt
new_certs_dir = $WORK/newcerts
serial = $WORK/serial
default_md = sha256
policy = any_policy
unique_subject = no
email_in_dn = no
copy_extensions = none
[ any_policy ]
commonName = supplied
EOF

# openssl is chatty on stderr even when it succeeds; show its output only on failure.
ossl() {
  if ! openssl "$@" >/dev/null 2>"$WORK/err"; then
    cat "$WORK/err" >&2
    echo "make-dev-pki: openssl $1 failed" >&2
    exit 1
  fi
}

# -subj treats / and + as separators; escape them in a CN taken from the environment.
subj() {
  local v=${1//\\/\\\\}
  v=${v//\//\\/}
  v=${v//+/\\+}
  printf '/CN=%s' "$v"
}

NEWKEY=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -pkeyopt ec_param_enc:named_curve -noenc)

make_ca() {  # name CN
  ossl req -x509 -config "$WORK/openssl.cnf" "${NEWKEY[@]}" -keyout "$OUT/$1.key" \
    -subj "$(subj "$2")" -sha256 -days 3650 -extensions ca_ext -out "$OUT/$1.crt"
}

# x509 -req picks a random serial when no serial file exists (OpenSSL 3.0).
make_leaf() {  # name CN ca extensions days
  ossl req -new -config "$WORK/openssl.cnf" "${NEWKEY[@]}" -keyout "$OUT/$1.key" \
    -subj "$(subj "$2")" -out "$WORK/$1.csr"
  ossl x509 -req -in "$WORK/$1.csr" -CA "$OUT/$3.crt" -CAkey "$OUT/$3.key" \
    -sha256 -days "$5" -extfile "$WORK/openssl.cnf" -extensions "$4" -out "$OUT/$1.crt"
}

make_ca ca "foggate dev CA"
make_ca other-ca "foggate other CA"
make_leaf server localhost ca server_ext 825
make_leaf client "$CLIENT_CN" ca client_ext 825
make_leaf other-server localhost other-ca server_ext 825
make_leaf other-client "$CLIENT_CN" other-ca client_ext 825
make_leaf server-wronghost wrong.example.invalid ca wronghost_ext 825
make_leaf client-expiring "$CLIENT_CN" ca client_ext 5

# Expired: valid for one day in 2020.
ossl req -new -config "$WORK/openssl.cnf" "${NEWKEY[@]}" -keyout "$OUT/server-expired.key" \
  -subj "/CN=localhost" -out "$WORK/server-expired.csr"
ossl ca -batch -config "$WORK/openssl.cnf" -name dev_ca -rand_serial -notext \
  -cert "$OUT/ca.crt" -keyfile "$OUT/ca.key" -in "$WORK/server-expired.csr" \
  -startdate 200101000000Z -enddate 200102000000Z -extensions server_ext \
  -out "$OUT/server-expired.crt"

for n in "${NAMES[@]}"; do
  chmod 0600 "$OUT/$n.key"
  chmod 0644 "$OUT/$n.crt"
  mv -f "$OUT/$n.key" "$OUT/$n.crt" "$DIR/"
done

describe() {
  case "$1" in
    ca)               echo "development CA (CN foggate dev CA), 10 years" ;;
    server)           echo "test broker: CN localhost, DNS:localhost, IP:127.0.0.1, serverAuth, 825 days" ;;
    client)           echo "gateway client: CN $CLIENT_CN, clientAuth, 825 days" ;;
    other-ca)         echo "unrelated CA (CN foggate other CA), for negative tests" ;;
    other-server)     echo "server signed by other-ca (untrusted)" ;;
    other-client)     echo "client signed by other-ca (untrusted)" ;;
    server-wronghost) echo "signed by ca, only DNS:wrong.example.invalid (hostname mismatch)" ;;
    server-expired)   echo "signed by ca, valid 2020-01-01..2020-01-02 (expired)" ;;
    client-expiring)  echo "signed by ca, clientAuth, expires in 5 days" ;;
  esac
}
echo "make-dev-pki: development PKI in $DIR (dev and tests only, never production)"
for n in "${NAMES[@]}"; do
  printf '  %-22s %s\n' "$n.crt" "$(describe "$n")"
  printf '  %-22s %s\n' "$n.key" "private key, mode 0600"
done
