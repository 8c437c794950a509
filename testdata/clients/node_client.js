// node-postgres client for server/app/clients_test.go (TestClientNodePg).
//
// Runs against a Sluice pgwire server given by SLUICE_PG_HOST / SLUICE_PG_PORT (optionally
// SLUICE_PG_USER, SLUICE_PG_PASSWORD, and SLUICE_PG_SSL=1 for TLS without verification): DDL, INSERTs
// with $n parameters, a pull query with $1 against a CTAS table (extended protocol), and
// pg-cursor read(2) twice over a push query with LIMIT 4 (Execute maxRows=2 ->
// PortalSuspended, then resume). It prints one line per result; the Go test compares the
// output exactly. Install the modules with `npm ci` in this directory.
'use strict';

const { Client } = require('pg');
const Cursor = require('pg-cursor');

const PULL = 'SELECT userId, cnt, total FROM click_stats WHERE userId = $1';
const ROWS = [['u1', 'home', 10], ['u2', 'cart', 20], ['u1', 'shop', 30],
  ['u3', 'home', 5], ['u2', 'home', 1], ['u1', 'cart', 2]];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const client = new Client({
    host: process.env.SLUICE_PG_HOST,
    port: Number(process.env.SLUICE_PG_PORT),
    user: process.env.SLUICE_PG_USER || 'sluice',
    password: process.env.SLUICE_PG_PASSWORD,
    database: 'sluice',
    ssl: process.env.SLUICE_PG_SSL ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  if (process.env.SLUICE_PG_SSL) console.log('ssl:', client.connection.stream.encrypted === true);
  let res = await client.query("CREATE STREAM clicks (userId STRING, page STRING, n INT) " +
    "WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1)");
  console.log('ddl:', res.command);
  res = await client.query('CREATE TABLE click_stats AS SELECT userId, COUNT(*) AS cnt, SUM(n) AS total ' +
    'FROM clicks GROUP BY userId EMIT CHANGES');
  console.log('ddl:', res.command);
  for (const row of ROWS) {
    await client.query('INSERT INTO clicks (userId, page, n) VALUES ($1, $2, $3)', row);
  }
  console.log('inserted:', ROWS.length);

  // Pull queries read committed state: poll until every user's count is in.
  const want = { u1: '3', u2: '2', u3: '1' };
  const deadline = Date.now() + 15000;
  for (;;) {
    const got = {};
    for (const u of Object.keys(want)) {
      const r = await client.query(PULL, [u]);
      for (const row of r.rows) got[row.USERID] = row.CNT;
    }
    if (JSON.stringify(got) === JSON.stringify(want)) break;
    if (Date.now() > deadline) throw new Error(`pull queries never showed ${JSON.stringify(want)}, last ${JSON.stringify(got)}`);
    await sleep(50);
  }
  for (const u of ['u1', 'u2', 'u3', 'nobody']) {
    const r = await client.query(PULL, [u]);
    console.log(`pull ${u}:`, JSON.stringify(r.rows), JSON.stringify(r.fields.map((f) => f.name)));
  }

  await client.query("SET 'auto.offset.reset'='earliest'");
  const cursor = client.query(new Cursor('SELECT userId, page, n FROM clicks EMIT CHANGES LIMIT 4'));
  for (let i = 1; i <= 3; i++) {
    const rows = await cursor.read(2);
    console.log(`cursor read ${i}:`, JSON.stringify(rows));
  }
  await cursor.close();

  // The connection is still usable after the cursor.
  res = await client.query(PULL, ['u3']);
  console.log('after cursor:', JSON.stringify(res.rows));
  await client.end();
  console.log('ok');
}

main().catch((err) => {
  console.error('FAILED:', err && err.stack, err && err.code ? `code=${err.code}` : '');
  process.exit(1);
});
