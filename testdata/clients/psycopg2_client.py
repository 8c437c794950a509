"""psycopg2 client for server/app/clients_test.go (TestClientPsycopg2).

Runs against a Sluice pgwire server given by SLUICE_PG_HOST / SLUICE_PG_PORT (optionally
SLUICE_PG_USER, SLUICE_PG_PASSWORD, and SLUICE_PG_SSL=1 for sslmode=require): DDL, INSERTs,
a parameterized pull query (%s) against a CTAS table, a named cursor (itersize=2) over a push
query with LIMIT 4, and copy_expert over a push query with LIMIT 2. It prints one line per
result; the Go test compares the output exactly. Run it with Debian's /usr/bin/python3
(python3-psycopg2).
"""
import io
import os
import sys
import time

import psycopg2

DDL = [
    "CREATE STREAM clicks (userId STRING, page STRING, n INT) "
    "WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1)",
    "CREATE TABLE click_stats AS SELECT userId, COUNT(*) AS cnt, SUM(n) AS total "
    "FROM clicks GROUP BY userId EMIT CHANGES",
]
ROWS = [("u1", "home", 10), ("u2", "cart", 20), ("u1", "shop", 30),
        ("u3", "home", 5), ("u2", "home", 1), ("u1", "cart", 2)]
PULL = "SELECT userId, cnt, total FROM click_stats WHERE userId = %s"
PUSH = "SELECT userId, page, n FROM clicks EMIT CHANGES LIMIT {}"


def connect():
    return psycopg2.connect(host=os.environ["SLUICE_PG_HOST"], port=os.environ["SLUICE_PG_PORT"],
                            user=os.environ.get("SLUICE_PG_USER", "sluice"),
                            password=os.environ.get("SLUICE_PG_PASSWORD"), dbname="sluice",
                            sslmode="require" if os.environ.get("SLUICE_PG_SSL") else "disable",
                            connect_timeout=5)


def main():
    conn = connect()
    if os.environ.get("SLUICE_PG_SSL"):
        print("ssl:", conn.info.ssl_in_use)
    conn.autocommit = True
    cur = conn.cursor()
    for stmt in DDL:
        cur.execute(stmt)
        print("ddl:", cur.statusmessage)
    for row in ROWS:
        cur.execute("INSERT INTO clicks (userId, page, n) VALUES (%s, %s, %s)", row)
    print("inserted:", len(ROWS))
    cur.close()

    # Pull queries read committed state: poll until every user's count is in, then once
    # more through a fresh transaction (autocommit off: psycopg2 sends BEGIN first).
    deadline = time.time() + 15
    want = {"u1": 3, "u2": 2, "u3": 1}
    while True:
        cur = conn.cursor()
        got = {}
        for user in want:
            cur.execute(PULL, (user,))
            for r in cur.fetchall():
                got[r[0]] = r[1]
        cur.close()
        if got == want:
            break
        if time.time() > deadline:
            sys.exit("pull queries never showed %r (last %r)" % (want, got))
        time.sleep(0.05)
    conn.autocommit = False
    cur = conn.cursor()
    for user in ("u1", "u2", "u3", "nobody"):
        cur.execute(PULL, (user,))
        print("pull %s: %r" % (user, cur.fetchall()))
    conn.rollback()
    cur.close()

    # Push query through a named cursor: BEGIN; DECLARE "c" CURSOR WITHOUT HOLD FOR ...;
    # FETCH FORWARD 2 FROM "c" until the LIMIT ends the stream.
    cur = conn.cursor()
    cur.execute("SET 'auto.offset.reset'='earliest'")
    cur.close()
    named = conn.cursor(name="push_cur")
    named.itersize = 2
    named.execute(PUSH.format(4))
    n = 0
    for row in named:
        n += 1
        print("cursor: %r" % (row,))
    print("cursor rows:", n)
    named.close()
    conn.commit()

    # COPY (push query) TO STDOUT: one CopyData per row.
    conn.autocommit = True
    cur = conn.cursor()
    sink = io.StringIO()
    cur.copy_expert("COPY (" + PUSH.format(2) + ") TO STDOUT", sink)
    print("copy: %r" % sink.getvalue())
    print("copy rowcount:", cur.rowcount)
    cur.close()
    conn.close()
    print("ok")


if __name__ == "__main__":
    main()
