#!/usr/bin/env python3
"""Disk bytes written per byte of batch stored, for SQLite settings the spool
could use (issue #15, part 4; results in docs/benchmarks.md, "SD-card writes").

Replays the spool's write pattern with Python's sqlite3 (the system SQLite,
3.40.1 on bookworm, built with SQLITE_SECURE_DELETE like the one foggate
links): the `batches` table of docs/spool-format.md, synchronous=FULL, blobs
appended 8 per transaction (a commit tick), then deleted 4 per transaction
(acknowledgements), ROUNDS times, so freed pages are reused. Bytes written
are the process's `write_bytes` (/proc/self/io, what reaches the block
device), over the blob bytes appended. Run it on the disk to be measured:

    python3 bench/spool_writes.py [DIR] [ROUNDS]      # DIR default /tmp

"noisy": incompressible blobs of 90-100 KB (S5's readings with 48 random
characters make ~95 KB batches); "plain": 14-16 KB (S5's plain readings).
"""
import os
import random
import sqlite3
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 8


def write_bytes():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes"):
                return int(line.split()[1])
    raise SystemExit("no write_bytes in /proc/self/io")


def run(journal, pragmas, make_blob, blobs, page_size=None):
    path = os.path.join(DIR, "spool_writes.db")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    c = sqlite3.connect(path, isolation_level=None)
    if page_size:
        c.execute(f"PRAGMA page_size={page_size}")
    c.execute(f"PRAGMA journal_mode={journal}").fetchall()
    for p in ["PRAGMA synchronous=FULL", "PRAGMA journal_size_limit=67108864"] + pragmas:
        c.execute(p).fetchall()
    c.execute("CREATE TABLE batches (id INTEGER PRIMARY KEY AUTOINCREMENT, priority INTEGER NOT NULL,"
              " seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, messages INTEGER NOT NULL,"
              " raw_bytes INTEGER NOT NULL, data BLOB NOT NULL)")
    os.sync()
    w0, stored, ids = write_bytes(), 0, []
    for _ in range(ROUNDS):
        for i in range(0, blobs, 8):
            c.execute("BEGIN IMMEDIATE")
            for j in range(8):
                b = make_blob()
                stored += len(b)
                cur = c.execute("INSERT INTO batches (priority, seq, created_ms, messages, raw_bytes, data)"
                                " VALUES (3, ?, 0, 1, 1, ?)", (i + j, b))
                ids.append(cur.lastrowid)
            c.execute("COMMIT")
        while ids:
            c.execute("BEGIN IMMEDIATE")
            for _ in range(min(4, len(ids))):
                c.execute("DELETE FROM batches WHERE id = ?", (ids.pop(0),))
            c.execute("COMMIT")
    ratio = (write_bytes() - w0) / stored
    c.close()
    return stored, ratio


rng = random.Random(1)
loads = {"noisy": (lambda: rng.randbytes(rng.randint(90_000, 100_000)), 48),
         "plain": (lambda: rng.randbytes(rng.randint(14_000, 16_000)), 32)}
variants = [
    ("WAL, secure_delete on (before)", "WAL", [], None),
    ("WAL, page_size 16384", "WAL", [], 16384),
    ("WAL, page_size 65536", "WAL", [], 65536),
    ("WAL, auto_vacuum=INCREMENTAL", "WAL", ["PRAGMA auto_vacuum=INCREMENTAL"], None),
    ("TRUNCATE journal (rollback), secure_delete on", "TRUNCATE", [], None),
    ("TRUNCATE journal, secure_delete=FAST", "TRUNCATE", ["PRAGMA secure_delete=FAST"], None),
    ("WAL, secure_delete=FAST", "WAL", ["PRAGMA secure_delete=FAST"], None),
    ("WAL, secure_delete=FAST, page_size 65536", "WAL", ["PRAGMA secure_delete=FAST"], 65536),
    ("WAL, secure_delete=FAST, wal_autocheckpoint=4096 (after)", "WAL",
     ["PRAGMA secure_delete=FAST", "PRAGMA wal_autocheckpoint=4096"], None),
]
print(f"{'variant':60s} {'noisy':>6s} {'plain':>6s}   (disk bytes written per byte stored; {ROUNDS} rounds)")
for name, journal, pragmas, page in variants:
    out = []
    for load, (make, blobs) in loads.items():
        _, ratio = run(journal, pragmas, make, blobs, page)
        out.append(f"{ratio:6.2f}")
    print(f"{name:60s} {' '.join(out)}")
