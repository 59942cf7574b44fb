import type { Db } from '../db/index.js';
import type { QuotaRule } from './policy.js';

export type QuotaOutcome = { ok: true } | { ok: false; rule: QuotaRule; retryAfterMs: number };

/**
 * Where quota counters live. The SQLite store below serves one machine (several
 * gateway processes on one database file); a shared store for several machines can
 * implement the same interface.
 */
export interface QuotaStore {
  /** Admits one call against every rule, or none: all counters move together or not at all. */
  take(agent: string, rules: readonly QuotaRule[], now?: number): QuotaOutcome;
}

/**
 * Exact sliding windows: a call is admitted when fewer than N calls were admitted in
 * the last window. Each admitted call is a row; rows older than their window are
 * pruned as the key is used, so a key holds at most N rows. The check and the insert
 * run in one `BEGIN IMMEDIATE` transaction, so concurrent calls, in this process or in
 * another one on the same file, are admitted exactly.
 */
export class SqliteQuotaStore implements QuotaStore {
  private readonly prune;
  private readonly count;
  private readonly oldest;
  private readonly insert;
  private readonly takeAll;

  constructor(db: Db) {
    this.prune = db.prepare('DELETE FROM quota_events WHERE agent = ? AND key = ? AND ts <= ?');
    this.count = db.prepare('SELECT COUNT(*) AS n FROM quota_events WHERE agent = ? AND key = ?').pluck();
    // The call that has to leave the window before another fits.
    this.oldest = db
      .prepare('SELECT ts FROM quota_events WHERE agent = ? AND key = ? ORDER BY ts DESC LIMIT 1 OFFSET ?')
      .pluck();
    this.insert = db.prepare('INSERT INTO quota_events (agent, key, ts) VALUES (?, ?, ?)');
    this.takeAll = db.transaction((agent: string, rules: readonly QuotaRule[], now: number): QuotaOutcome => {
      for (const rule of rules) {
        this.prune.run(agent, rule.key, now - rule.windowMs);
        const used = this.count.get(agent, rule.key) as number;
        if (used >= rule.limit) {
          // With no admitted call in the window (a limit of 0) the wait is a whole window.
          const ts = this.oldest.get(agent, rule.key, Math.max(0, rule.limit - 1)) as number | undefined;
          return {
            ok: false,
            rule,
            retryAfterMs: ts === undefined ? rule.windowMs : Math.max(1, ts + rule.windowMs - now),
          };
        }
      }
      for (const rule of rules) this.insert.run(agent, rule.key, now);
      return { ok: true };
    });
  }

  take(agent: string, rules: readonly QuotaRule[], now = Date.now()): QuotaOutcome {
    if (rules.length === 0) return { ok: true };
    return this.takeAll.immediate(agent, rules, now);
  }
}
