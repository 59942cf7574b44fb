import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import type { QuotaRule } from './policy.js';
import { SqliteQuotaStore, type QuotaOutcome } from './quota.js';
import { parseRate } from './rate.js';

const MINUTE = 60_000;
const T0 = 1_700_000_000_000;

function rule(key: string, text: string): QuotaRule {
  return { key, ...parseRate(text)! };
}

function refusal(outcome: QuotaOutcome): { rule: QuotaRule; retryAfterMs: number } {
  if (outcome.ok) throw new Error('expected the call to be refused');
  return { rule: outcome.rule, retryAfterMs: outcome.retryAfterMs };
}

let dir: string;
let file: string;
let dbs: Db[];

function open(): Db {
  const db = openDatabase(file);
  dbs.push(db);
  return db;
}

function rows(db: Db, agent: string, key: string): number {
  return db.prepare('SELECT COUNT(*) FROM quota_events WHERE agent = ? AND key = ?').pluck().get(agent, key) as number;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-quota-'));
  file = path.join(dir, 'switchboard.db');
  dbs = [];
});

afterEach(() => {
  for (const db of dbs) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteQuotaStore', () => {
  it('admits exactly N of many calls at the same instant', () => {
    const store = new SqliteQuotaStore(open());
    const files = rule('files__*', '5/1m');
    const outcomes = Array.from({ length: 20 }, () => store.take('ops', [files], T0));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    expect(outcomes.slice(0, 5).every((o) => o.ok)).toBe(true);
    for (const outcome of outcomes.slice(5)) expect(refusal(outcome)).toEqual({ rule: files, retryAfterMs: MINUTE });
  });

  it('admits every call when there are no rules', () => {
    const store = new SqliteQuotaStore(open());
    for (let i = 0; i < 3; i++) expect(store.take('ops', [], T0)).toEqual({ ok: true });
  });

  it('says when the oldest admitted call leaves the window', () => {
    const store = new SqliteQuotaStore(open());
    const files = rule('files__*', '3/1m');
    expect(store.take('ops', [files], T0).ok).toBe(true);
    expect(store.take('ops', [files], T0 + 10_000).ok).toBe(true);
    expect(store.take('ops', [files], T0 + 20_000).ok).toBe(true);
    // window − (now − ts of the oldest call in the window)
    expect(refusal(store.take('ops', [files], T0 + 25_000)).retryAfterMs).toBe(MINUTE - 25_000);
    expect(refusal(store.take('ops', [files], T0 + 59_999)).retryAfterMs).toBe(1);
  });

  it('admits one more call once the window has slid past the oldest call, and no more', () => {
    const store = new SqliteQuotaStore(open());
    const files = rule('files__*', '3/1m');
    for (const at of [0, 10_000, 20_000]) expect(store.take('ops', [files], T0 + at).ok).toBe(true);
    expect(store.take('ops', [files], T0 + MINUTE - 1).ok).toBe(false);
    expect(store.take('ops', [files], T0 + MINUTE).ok).toBe(true);
    // Now in the window: 10 000, 20 000 and 60 000; the next to leave is the one at 10 000.
    expect(refusal(store.take('ops', [files], T0 + MINUTE)).retryAfterMs).toBe(10_000);
    expect(store.take('ops', [files], T0 + MINUTE + 10_000).ok).toBe(true);
  });

  it('refused calls do not count', () => {
    const store = new SqliteQuotaStore(open());
    const files = rule('files__*', '2/1m');
    expect(store.take('ops', [files], T0).ok).toBe(true);
    expect(store.take('ops', [files], T0).ok).toBe(true);
    for (let i = 1; i < 50; i++) expect(store.take('ops', [files], T0 + i * 1_000).ok).toBe(false);
    expect(store.take('ops', [files], T0 + MINUTE).ok).toBe(true);
  });

  it('admits a call against several rules all together or not at all', () => {
    const db = open();
    const store = new SqliteQuotaStore(db);
    const files = rule('files__*', '5/1m');
    const all = rule('*', '2/1m');
    expect(store.take('ops', [files, all], T0).ok).toBe(true);
    expect(store.take('ops', [files, all], T0 + 1).ok).toBe(true);
    const refused = refusal(store.take('ops', [files, all], T0 + 2));
    expect(refused).toEqual({ rule: all, retryAfterMs: MINUTE - 2 });
    expect(rows(db, 'ops', 'files__*')).toBe(2);
    expect(rows(db, 'ops', '*')).toBe(2);
    // The first rule still has room for three calls that draw only on it.
    for (let i = 0; i < 3; i++) expect(store.take('ops', [files], T0 + 3).ok).toBe(true);
    expect(refusal(store.take('ops', [files], T0 + 3)).rule).toEqual(files);
  });

  it('names the first full rule', () => {
    const store = new SqliteQuotaStore(open());
    const a = rule('a__*', '1/1m');
    const b = rule('b__*', '1/1h');
    expect(store.take('ops', [a, b], T0).ok).toBe(true);
    expect(refusal(store.take('ops', [a, b], T0 + 1)).rule).toEqual(a);
    expect(refusal(store.take('ops', [b, a], T0 + 1))).toEqual({ rule: b, retryAfterMs: 3_600_000 - 1 });
  });

  it('keeps one counter per agent and per key', () => {
    const store = new SqliteQuotaStore(open());
    const files = rule('files__*', '1/1m');
    const memory = rule('memory__*', '1/1m');
    expect(store.take('ops', [files], T0).ok).toBe(true);
    expect(store.take('ops', [files], T0).ok).toBe(false);
    expect(store.take('ci', [files], T0).ok).toBe(true);
    expect(store.take('ops', [memory], T0).ok).toBe(true);
    expect(store.take('ci', [memory], T0).ok).toBe(true);
    expect(store.take('ci', [memory], T0).ok).toBe(false);
  });

  it('shares counters with another connection to the same file (another process)', () => {
    const first = new SqliteQuotaStore(open());
    const second = new SqliteQuotaStore(open());
    const files = rule('files__*', '3/1m');
    expect(first.take('ops', [files], T0).ok).toBe(true);
    expect(second.take('ops', [files], T0 + 1).ok).toBe(true);
    expect(first.take('ops', [files], T0 + 2).ok).toBe(true);
    expect(refusal(second.take('ops', [files], T0 + 3)).retryAfterMs).toBe(MINUTE - 3);
    expect(refusal(first.take('ops', [files], T0 + 3)).retryAfterMs).toBe(MINUTE - 3);
  });

  it('keeps counters across a reopen of the file', () => {
    const files = rule('files__*', '1/1m');
    const db = open();
    expect(new SqliteQuotaStore(db).take('ops', [files], T0).ok).toBe(true);
    db.close();
    dbs = dbs.filter((d) => d !== db);
    expect(new SqliteQuotaStore(open()).take('ops', [files], T0 + 1).ok).toBe(false);
  });

  it('prunes rows older than the window as the key is used', () => {
    const db = open();
    const store = new SqliteQuotaStore(db);
    const files = rule('files__*', '3/1m');
    for (let i = 0; i < 30; i++) store.take('ops', [files], T0 + i * 30_000);
    // Calls every 30 s in a 60 s window: only the last two are still inside it.
    expect(rows(db, 'ops', 'files__*')).toBe(2);
    store.take('ops', [files], T0 + 100 * MINUTE);
    expect(rows(db, 'ops', 'files__*')).toBe(1);
    expect(db.prepare('SELECT COUNT(*) FROM quota_events').pluck().get()).toBe(1);
  });

  it('keeps its count of calls equal to the rows, through pruning and two connections', () => {
    const db = open();
    const stores = [new SqliteQuotaStore(db), new SqliteQuotaStore(open())];
    const files = rule('files__*', '50/1m');
    const reads = rule('*', '20/10s');
    for (let i = 0; i < 400; i++) stores[i % 2]!.take('ops', i % 3 === 0 ? [files, reads] : [files], T0 + i * 500);
    for (const key of ['files__*', '*']) {
      const counted = db.prepare('SELECT n FROM quota_counts WHERE agent = ? AND key = ?').pluck().get('ops', key);
      expect(counted).toBe(rows(db, 'ops', key));
    }
  });

  it('holds at most N rows per key, however many calls are refused', () => {
    const db = open();
    const store = new SqliteQuotaStore(db);
    const files = rule('files__*', '4/1h');
    for (let i = 0; i < 100; i++) store.take('ops', [files], T0 + i);
    expect(rows(db, 'ops', 'files__*')).toBe(4);
  });

  // The schema refuses "0/…" (deny is the way to say none), but the store stays sane for it.
  it('refuses every call under a "0/1h" quota with a finite retry delay', () => {
    const store = new SqliteQuotaStore(open());
    const refused = refusal(store.take('ops', [rule('files__*', '0/1h')], T0));
    expect(Number.isFinite(refused.retryAfterMs)).toBe(true);
    expect(refused.retryAfterMs).toBeGreaterThanOrEqual(1);
  });
});
