#!/usr/bin/env python3
"""Reference decoder for foggate uplink batches (docs/uplink-format.md).

    decode_batch.py [FILE ...]      one batch per file; none or "-": stdin

Prints one JSON object per message, in batch order, with the same keys and
values as foggate's C++ decode_batch():

    {"gateway", "seq", "priority", "created_ms", "device", "topic", "source",
     "sensor_ts_ms" (absent when unknown), "received_ms", "flags", "payload"}

A payload that travelled as raw bytes prints as {"raw_base64": "..."}.
A summary batch (version 2, "kind": "summary": a degraded uplink's
summaries of readings) prints the same way, each message with
"summary": true after "flags".
Exit status 1 if any batch could not be decoded (the reason goes to stderr).

Needs only the standard library and msgpack >= 1.0 (Debian: python3-msgpack).
"""

import base64
import collections
import json
import math
import sys
import zlib

import msgpack

VERSION = 1
SUMMARY_VERSION = 2  # the same document plus "kind": "summary"
FLAG_SUMMARY = 4
PRIORITIES = ("critical", "high", "normal", "low")
SOURCES = ("mqtt", "coap")
MAX_OUTPUT = 64 << 20  # like DecodeBatchLimits::max_output_bytes
MAX_DECIMALS = 9
MAX_DEPTH = 34  # containers, counting the document map


class BatchError(Exception):
    """reason is one of decode_batch's: zlib, too_large, batch_format, batch_version."""

    def __init__(self, reason, detail):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def fail(detail):
    raise BatchError("batch_format", detail)


def inflate(data):
    """Exactly one zlib stream, at most MAX_OUTPUT bytes, nothing after it."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_OUTPUT + 1)
    except zlib.error as e:
        raise BatchError("zlib", str(e)) from None
    if len(out) > MAX_OUTPUT:
        raise BatchError("too_large", f"inflates to more than {MAX_OUTPUT} bytes")
    if not d.eof:
        raise BatchError("zlib", "truncated stream")
    if d.unused_data:
        raise BatchError("zlib", f"{len(d.unused_data)} bytes after the end of the zlib stream")
    return out


def str_keyed(pairs):
    """Maps must have distinct str keys."""
    out = dict(pairs)
    if len(out) != len(pairs) or not all(isinstance(k, str) for k in out):
        fail("map with duplicate or non-string keys")
    return out


def unpack(doc):
    try:
        return msgpack.unpackb(doc, raw=False, object_pairs_hook=str_keyed, strict_map_key=False)
    except BatchError:
        raise
    except Exception as e:  # ExtraData, FormatError, StackError, UnicodeDecodeError, ...
        fail(f"msgpack: {e}")


def check_depth(doc):
    """No container nests deeper than MAX_DEPTH (iterative: input decides the depth)."""
    stack = [(doc, 1)]
    while stack:
        v, depth = stack.pop()
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            fail(f"msgpack: nested deeper than {MAX_DEPTH}")
        stack.extend((c, depth + 1) for c in children)


def number(v):
    """JSON form of a number: integral floats print as ints, non-finite as null."""
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if v == int(v) and abs(v) <= 2**53:
            return int(v)
    return v


def to_json(v):
    """The JSON form of a value (docs/uplink-format.md, "Values")."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, bytes):
        return {"raw_base64": base64.b64encode(v).decode("ascii")}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    fail(f"value of type {type(v).__name__}")  # ExtType, Timestamp


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def array(doc, key, size=None):
    a = doc[key]
    if not isinstance(a, list):
        fail(f"{key} is not an array")
    if size is not None and len(a) != size:
        fail(f"{key} has {len(a)} elements, n is {size}")
    return a


def undelta(deltas, what, nil_ok=False):
    """Running sum of int deltas, starting from 0; nil (when allowed) stays None."""
    out, value = [], 0
    for i, d in enumerate(deltas):
        if d is None and nil_ok:
            out.append(None)
            continue
        if not is_int(d):
            fail(f"{what}[{i}] is not an int delta")
        value += d
        out.append(value)
    return out


def indexes(doc, key, n, limit):
    a = array(doc, key, n)
    for i, v in enumerate(a):
        if not is_int(v) or not 0 <= v < limit:
            fail(f"{key}[{i}] is not a uint below {limit}")
    return a


def column(col, count, where):
    """One column map: {"i"}, {"e","i"} or {"v"} -> list of JSON values."""
    if not isinstance(col, dict):
        fail(f"{where} is not a map")
    shape = set(col)
    if shape == {"v"}:
        values = col["v"]
    elif shape in ({"i"}, {"e", "i"}):
        values = col["i"]
    else:
        fail(f"{where} has keys {sorted(shape)}")
    if not isinstance(values, list) or len(values) != count:
        fail(f"{where} does not hold {count} values")
    if shape == {"v"}:
        return [to_json(v) for v in values]
    ints = undelta(values, where)
    if "e" not in col:
        return ints
    k = col["e"]
    if not is_int(k) or not 1 <= k <= MAX_DECIMALS:
        fail(f'{where} "e" is not an int in 1..9')
    # Both operands are exact doubles; IEEE division rounds correctly, so this
    # is bit for bit the value the producer had.
    return [number(float(m) / float(10**k)) for m in ints]


def decode(data):
    """Decodes one batch (bytes) into a list of JSON-ready dicts."""
    doc = unpack(inflate(data))
    if not isinstance(doc, dict):
        fail("document is not a map")
    check_depth(doc)
    if not is_int(doc.get("v")) or doc["v"] < 0:
        fail("v is missing or not a uint")
    if doc["v"] not in (VERSION, SUMMARY_VERSION):
        raise BatchError("batch_version", f"version {doc['v']}")
    summary = doc["v"] == SUMMARY_VERSION
    if summary and doc.get("kind") != "summary":
        fail('kind is not "summary" in a version 2 batch')
    keys = ("gw", "seq", "prio", "created", "n", "topics", "topic", "devices", "device", "src",
            "flags", "rx", "ts", "schemas", "pschema", "cols", "other")
    for k in keys:
        if k not in doc:
            fail(f"missing key {k}")
    if not isinstance(doc["gw"], str):
        fail("gw is not a string")
    if not is_int(doc["seq"]) or doc["seq"] < 0:
        fail("seq is not a uint")
    if doc["prio"] not in PRIORITIES:
        fail("prio is not a priority")
    if not is_int(doc["created"]):
        fail("created is not an int")
    n = doc["n"]
    if not is_int(n) or n < 0:
        fail("n is not a uint")

    topics, devices = array(doc, "topics"), array(doc, "devices")
    if not all(isinstance(s, str) for s in topics + devices):
        fail("topics or devices hold a non-string")
    topic = indexes(doc, "topic", n, len(topics))
    device = indexes(doc, "device", n, len(devices))
    src = indexes(doc, "src", n, len(SOURCES))
    flags = indexes(doc, "flags", n, 2**32)
    rx = undelta(array(doc, "rx", n), "rx")
    ts = undelta(array(doc, "ts", n), "ts", nil_ok=True)

    schemas = array(doc, "schemas")
    pschema = array(doc, "pschema", n)
    for i, s in enumerate(pschema):
        if not is_int(s) or not -1 <= s < len(schemas):
            fail(f"pschema[{i}] is not -1 or a schema index below {len(schemas)}")
    rows_of = collections.Counter(pschema)
    cols = array(doc, "cols", len(schemas))
    columns = []
    for s, (names, cs) in enumerate(zip(schemas, cols)):
        if not isinstance(names, list) or not all(isinstance(k, str) for k in names):
            fail(f"schemas[{s}] is not an array of strings")
        if len(set(names)) != len(names):
            fail(f"schemas[{s}] repeats a key")
        if not isinstance(cs, list) or len(cs) != len(names):
            fail(f"cols[{s}] does not hold one column per key")
        columns.append([column(c, rows_of[s], f"cols[{s}][{j}]") for j, c in enumerate(cs)])
    other = array(doc, "other", rows_of[-1])

    out = []
    next_row = [0] * len(schemas)
    next_other = 0
    for i in range(n):
        m = {
            "gateway": doc["gw"],
            "seq": doc["seq"],
            "priority": doc["prio"],
            "created_ms": doc["created"],
            "device": devices[device[i]],
            "topic": topics[topic[i]],
            "source": SOURCES[src[i]],
        }
        if ts[i] is not None:
            m["sensor_ts_ms"] = ts[i]
        m["received_ms"] = rx[i]
        m["flags"] = flags[i]
        if summary:
            if not flags[i] & FLAG_SUMMARY:
                fail(f"flags[{i}] lacks the summary bit in a summary batch")
            m["summary"] = True
        s = pschema[i]
        if s < 0:
            m["payload"] = to_json(other[next_other])
            next_other += 1
        else:
            r = next_row[s]
            next_row[s] += 1
            m["payload"] = {k: columns[s][j][r] for j, k in enumerate(schemas[s])}
        out.append(m)
    return out


def main(argv):
    paths = argv[1:] or ["-"]
    status = 0
    for path in paths:
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
            for m in decode(data):
                line = json.dumps(m, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                sys.stdout.buffer.write(line.encode("utf-8") + b"\n")
        except (BatchError, OSError) as e:
            print(f"{argv[0]}: {path}: {e}", file=sys.stderr)
            status = 1
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
