#!/usr/bin/env node
// Scenario 5, run in a process of its own: Switchboard's SQLite writers driven directly
// from dist/ (build first). Prints one JSON object on stdout.
//
// - The audit writer (AuditLog): many concurrent start/end pairs, as calls in flight
//   make them; rows per second and rows per commit (group commit), beside the same
//   rows written one commit per statement with better-sqlite3 on the same schema.
// - The quota store (SqliteQuotaStore): the cost of one take() as the number of calls
//   inside the window grows.
//
//   node store-writers.mjs <root> <dir> <rows> [quota takes]
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [root, dir, rowsText, takesText] = process.argv.slice(2);
const rows = Number(rowsText);
const takes = Number(takesText ?? 2000);
const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
const { openDatabase } = await load('db/index.js');
const { AuditLog } = await load('audit/index.js');
const { silentLogger } = await load('observability/index.js');
const { SqliteQuotaStore } = await load('policy/index.js');

const START = {
  agent: 'bench',
  session: '6f1c1c52-3c5e-4a43-9d0b-bd3c7a3a3b7e',
  client: 'switchboard-bench/1.0.0',
  transport: 'stdio',
  method: 'tools/call',
  server: 'echo',
  name: 'echo',
  exposedName: 'echo__echo',
  decision: 'allow: *',
  args: { text: 'hello' },
};

function fresh(name) {
  return openDatabase(path.join(mkdtempSync(path.join(dir, `${name}-`)), 'switchboard.db'));
}

async function auditGroupCommit(concurrency) {
  const db = fresh(`audit-${concurrency}`);
  const log = new AuditLog(db, { maxArgsBytes: 8192, onFailure: 'refuse', key: { kind: 'sha256' }, log: silentLogger });
  let commits = 0;
  const flush = log.flush.bind(log);
  log.flush = () => {
    if (log.pendingOps > 0) commits++;
    flush();
  };
  let next = 0;
  const latencies = new Float64Array(rows);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= rows) return;
      const t0 = performance.now();
      const call = await log.start(START);
      latencies[i] = performance.now() - t0;
      call?.end({ status: 'ok', responseBytes: 64 });
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  log.close();
  const ms = performance.now() - began;
  const finished = db.prepare("SELECT COUNT(*) FROM audit WHERE status = 'ok'").pluck().get();
  db.close();
  latencies.sort();
  return {
    concurrency,
    rows,
    finished,
    rowsPerSecond: (rows / ms) * 1000,
    commits,
    // A row is written twice (pending, then its outcome): operations per transaction.
    opsPerCommit: commits ? (rows * 2) / commits : NaN,
    startP50Ms: latencies[Math.floor(rows * 0.5)],
    startP99Ms: latencies[Math.floor(rows * 0.99)],
  };
}

/** The same rows, each statement its own commit: what group commit saves. */
function auditOneCommitEach() {
  const db = fresh('audit-naive');
  const insert = db.prepare(
    `INSERT INTO audit (ts, ts_ms, agent, session, client, transport, origin, method, server, name, exposed_name,
       status, decision, args_hash, args, request_bytes, owner)
     VALUES (?, ?, ?, ?, ?, ?, 'agent', ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
  );
  const finish = db.prepare("UPDATE audit SET status = 'ok', latency_ms = ?, response_bytes = 64 WHERE id = ?");
  const began = performance.now();
  for (let i = 0; i < rows; i++) {
    const now = Date.now();
    const { lastInsertRowid } = insert.run(
      new Date(now).toISOString(),
      now,
      START.agent,
      START.session,
      START.client,
      START.transport,
      START.method,
      START.server,
      START.name,
      START.exposedName,
      START.decision,
      'x'.repeat(64),
      '{"text":"hello"}',
      16,
      'bench:1',
    );
    finish.run(0.1, lastInsertRowid);
  }
  const ms = performance.now() - began;
  db.close();
  return { rows, rowsPerSecond: (rows / ms) * 1000 };
}

function quotaTake(inWindow, takes) {
  const db = fresh(`quota-${inWindow}`);
  const store = new SqliteQuotaStore(db);
  const rule = { key: '*', limit: 1e9, windowMs: 86_400_000, text: '1000000000/1d' };
  const now = Date.now();
  const fill = db.prepare('INSERT INTO quota_events (agent, key, ts) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < inWindow; i++) fill.run('bench', '*', now - 1000 - i);
  })();
  const lat = new Float64Array(takes);
  for (let i = 0; i < takes; i++) {
    const t0 = performance.now();
    const outcome = store.take('bench', [rule], now + i);
    lat[i] = performance.now() - t0;
    if (!outcome.ok) throw new Error('quota refused');
  }
  db.close();
  lat.sort();
  return { inWindow, takes, p50Us: lat[Math.floor(takes / 2)] * 1000, p99Us: lat[Math.floor(takes * 0.99)] * 1000 };
}

const out = { audit: [], naive: undefined, quota: [] };
// Warm-up: JIT and the page cache, thrown away.
await auditGroupCommit(16);
for (const concurrency of [1, 16, 256]) out.audit.push(await auditGroupCommit(concurrency));
out.naive = auditOneCommitEach();
for (const inWindow of [0, 1_000, 10_000, 100_000]) out.quota.push(quotaTake(inWindow, takes));
process.stdout.write(JSON.stringify(out) + '\n');
