#!/usr/bin/env bash
# Writes the seed corpus of the mqtt_packet fuzz target into
# fuzz/corpus/mqtt_packet/. Each file: one byte choosing the chunk size
# (1 + byte % 16), then what a broker might send. Lengths are counted in the
# comments; the unit tests (tests/unit/protocols/mqtt_packet*_test.cpp) hold
# the same layouts.
set -euo pipefail
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/corpus/mqtt_packet"
mkdir -p "$OUT"

# CONNACK v5: properties Receive Maximum 20 (3), Maximum Packet Size 4096 (5).
printf '\x00\x20\x0b\x00\x00\x08\x21\x00\x14\x27\x00\x00\x10\x00' >"$OUT/connack_v5"
# PUBLISH QoS 1 v5, id 7: topic t/1 (5), id (2), properties 11 (1 + 11):
# Payload Format Indicator, User Property k=v, Subscription Identifier 5;
# payload {"t":21.5} (10). Body 29.
printf '\x03\x32\x1d\x00\x03t/1\x00\x07\x0b\x01\x01\x26\x00\x01k\x00\x01v\x0b\x05{"t":21.5}' >"$OUT/publish_qos1_v5"
# SUBACK 3.1.1: id 1, granted QoS 1.
printf '\x05\x90\x03\x00\x01\x01' >"$OUT/suback_v311"
# DISCONNECT v5: Server moved, Reason String "go".
printf '\x00\xe0\x07\x9c\x05\x1f\x00\x02go' >"$OUT/disconnect_v5"
# One read holding CONNACK 3.1.1, PUBLISH QoS 0 (a/b/c "hello"), SUBACK v5
# refused, PINGRESP, UNSUBACK v5, DISCONNECT v5 (server shutting down).
printf '\x07\x20\x02\x00\x00\x30\x0c\x00\x05a/b/chello\x90\x04\x00\x02\x00\x80\xd0\x00\xb0\x04\x00\x03\x00\x00\xe0\x01\x8b' \
  >"$OUT/stream"
# PUBLISH of 267 bytes (remaining length 264: 0x88 0x02), over the fuzz
# target's 256-byte limit, then PINGRESP.
{ printf '\x02\x30\x88\x02\x00\x01x'; head -c 261 /dev/zero | tr '\0' p; printf '\xd0\x00'; } >"$OUT/oversized_publish"
