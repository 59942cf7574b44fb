import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GatewayError, errorMessage } from '../errors.js';

export type Db = Database.Database;

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
];

/**
 * The one place SQLite is opened. WAL mode, so several gateway processes (Claude
 * Desktop, an IDE and a terminal each run their own) share the file safely; a busy
 * timeout, so a process waits for another's write lock instead of failing.
 */
export function openDatabase(file: string): Db {
  let db: Db;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (error) {
    throw new GatewayError('internal', `cannot open database ${file}: ${errorMessage(error)}`, { cause: error });
  }
  return db;
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
