import type { Db } from '../db/index.js';
import type { Rate } from './rate.js';

export type BudgetOutcome = { ok: true; reservation: number } | { ok: false; spentUsd: number; retryAfterMs: number };

/**
 * An agent's model spending per window (`models.budgetUsd`). A call first reserves its
 * estimated cost, inside one `BEGIN IMMEDIATE` transaction with the check, so concurrent
 * calls (from any process on the database) cannot overspend together; when it ends the
 * reservation is settled to the real cost (or released on failure).
 */
export class BudgetStore {
  private readonly spent;
  private readonly oldest;
  private readonly insert;
  private readonly settleRow;
  private readonly reserveTx;

  constructor(db: Db) {
    this.spent = db.prepare('SELECT COALESCE(SUM(usd), 0) FROM budget_events WHERE agent = ? AND ts > ?').pluck();
    this.oldest = db.prepare('SELECT MIN(ts) FROM budget_events WHERE agent = ? AND ts > ? AND usd > 0').pluck();
    this.insert = db.prepare('INSERT INTO budget_events (agent, ts, usd) VALUES (?, ?, ?)');
    this.settleRow = db.prepare('UPDATE budget_events SET usd = ? WHERE id = ?');
    this.reserveTx = db.transaction((agent: string, rate: Rate, estimateUsd: number, now: number): BudgetOutcome => {
      const since = now - rate.windowMs;
      const spentUsd = this.spent.get(agent, since) as number;
      if (spentUsd + estimateUsd > rate.limit || spentUsd >= rate.limit) {
        const oldest = (this.oldest.get(agent, since) as number | null) ?? now;
        return { ok: false, spentUsd, retryAfterMs: Math.max(1, oldest + rate.windowMs - now) };
      }
      return { ok: true, reservation: Number(this.insert.run(agent, now, estimateUsd).lastInsertRowid) };
    });
  }

  reserve(agent: string, rate: Rate, estimateUsd: number, now = Date.now()): BudgetOutcome {
    return this.reserveTx.immediate(agent, rate, estimateUsd, now);
  }

  /** The real cost replaces the estimate (0 when the call failed or cost nothing known). */
  settle(reservation: number, usd: number): void {
    this.settleRow.run(usd, reservation);
  }
}
