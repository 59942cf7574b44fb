import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GatewayError, errorMessage } from '../errors.js';

export type Db = Database.Database;

/** How often the WAL is copied back into the database file (see `openDatabase`). */
const CHECKPOINT_MS = 1_000;

/**
 * Schema versions, applied in order and recorded in `PRAGMA user_version`. Each stage
 * that keeps state (quotas, audit) adds its tables here; nothing else creates tables.
 */
const MIGRATIONS: readonly string[] = [
  // 1: quota counters — one row per admitted call, kept only while inside its window.
  `CREATE TABLE quota_events (
     agent TEXT NOT NULL,
     key   TEXT NOT NULL,
     ts    INTEGER NOT NULL
   );
   CREATE INDEX quota_events_by_key ON quota_events (agent, key, ts);`,
  // 2: the audit log. A row is inserted as 'pending' before a call is forwarded and
  // finished when it ends; finishing gives it its place in the hash chain (chain_seq).
  `CREATE TABLE audit (
     id             INTEGER PRIMARY KEY,
     ts             TEXT NOT NULL,
     ts_ms          INTEGER NOT NULL,
     agent          TEXT NOT NULL,
     session        TEXT,
     client         TEXT,
     transport      TEXT NOT NULL,
     origin         TEXT NOT NULL DEFAULT 'agent',
     method         TEXT NOT NULL,
     server         TEXT,
     name           TEXT,
     exposed_name   TEXT,
     status         TEXT NOT NULL,
     error          TEXT,
     decision       TEXT,
     latency_ms     REAL,
     args_hash      TEXT,
     args           TEXT,
     request_bytes  INTEGER,
     response_bytes INTEGER,
     result         TEXT,
     model          TEXT,
     provider       TEXT,
     attempts       TEXT,
     input_tokens   INTEGER,
     output_tokens  INTEGER,
     cost_usd       REAL,
     owner          TEXT,
     chain_seq      INTEGER UNIQUE,
     prev_hash      TEXT,
     hash           TEXT
   );
   CREATE INDEX audit_by_time ON audit (ts_ms);
   CREATE INDEX audit_by_agent ON audit (agent, ts_ms);
   CREATE INDEX audit_pending ON audit (status) WHERE status = 'pending';
   CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 3: tool pins — the approved definition of every tool, and a change awaiting approval.
  `CREATE TABLE tool_pins (
     server             TEXT NOT NULL,
     tool               TEXT NOT NULL,
     hash               TEXT NOT NULL,
     definition         TEXT NOT NULL,
     first_seen         TEXT NOT NULL,
     pending_hash       TEXT,
     pending_definition TEXT,
     changed_at         TEXT,
     PRIMARY KEY (server, tool)
   );`,
  // 4: model budgets — one row per sample call: the estimate reserved, then the cost settled.
  `CREATE TABLE budget_events (
     id    INTEGER PRIMARY KEY,
     agent TEXT NOT NULL,
     ts    INTEGER NOT NULL,
     usd   REAL NOT NULL
   );
   CREATE INDEX budget_events_by_agent ON budget_events (agent, ts);`,
  // 5: approvals waiting for a person — decided from the dashboard or `switchboard
  // approvals` (any process), or by the client's own elicitation answer.
  `CREATE TABLE approvals (
     id          INTEGER PRIMARY KEY,
     created_at  TEXT NOT NULL,
     agent       TEXT NOT NULL,
     session     TEXT,
     transport   TEXT NOT NULL,
     server      TEXT,
     tool        TEXT NOT NULL,
     rule        TEXT NOT NULL,
     args        TEXT NOT NULL,
     status      TEXT NOT NULL DEFAULT 'pending',
     decided_at  TEXT,
     decided_by  TEXT,
     owner       TEXT
   );
   CREATE INDEX approvals_pending ON approvals (status) WHERE status = 'pending';`,
  // 6: quota counts — how many quota_events rows each (agent, key) has, kept in the same
  // transactions that add and prune them, so a take reads one row instead of counting.
  `CREATE TABLE quota_counts (
     agent TEXT NOT NULL,
     key   TEXT NOT NULL,
     n     INTEGER NOT NULL,
     PRIMARY KEY (agent, key)
   ) WITHOUT ROWID;
   INSERT INTO quota_counts (agent, key, n) SELECT agent, key, COUNT(*) FROM quota_events GROUP BY agent, key;`,
];

/**
 * The one place SQLite is opened. WAL mode, so several gateway processes (Claude
 * Desktop, an IDE and a terminal each run their own) share the file safely; a busy
 * timeout, so a process waits for another's write lock instead of failing.
 *
 * SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages,
 * on the main thread, with an fsync: about one audit commit in 120 took 1–9 ms. It is
 * off; instead each process checkpoints (PASSIVE: it never waits for readers or
 * writers) once a second from a timer, so the stall is one per second rather than
 * one per 120 calls, and pages written many times in that second are copied once.
 */
export function openDatabase(file: string): Db {
  let db: Db;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    checkpointPeriodically(db);
  } catch (error) {
    throw new GatewayError('internal', `cannot open database ${file}: ${errorMessage(error)}`, { cause: error });
  }
  return db;
}

function checkpointPeriodically(db: Db): void {
  const timer = setInterval(() => {
    if (!db.open) {
      clearInterval(timer);
      return;
    }
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing: the next tick tries again, and the WAL keeps every commit meanwhile.
    }
  }, CHECKPOINT_MS);
  timer.unref();
}

function migrate(db: Db): void {
  // BEGIN IMMEDIATE: two processes starting at once must not both apply a migration.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}
