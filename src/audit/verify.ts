import type { Db } from '../db/index.js';
import { GENESIS, chainHash, type ChainKey } from './chain.js';
import { SELECT_ROW, type AuditRow } from './row.js';

export type VerifyResult =
  | { ok: true; rows: number; chain: string }
  | { ok: false; rows: number; id: number | null; position: number; reason: string };

/**
 * Walks the hash chain and reports the first row that was changed, inserted or deleted.
 * Pending rows (calls still in flight) are not in the chain yet and are skipped.
 */
export function verifyChain(db: Db, key: ChainKey): VerifyResult {
  const meta = (k: string) =>
    db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(k) as string | undefined;
  const kind = meta('chain') ?? key.kind;
  if (kind === 'hmac' && key.kind !== 'hmac') {
    return {
      ok: false,
      rows: 0,
      id: null,
      position: 0,
      reason: 'the chain is keyed (HMAC): set SWITCHBOARD_AUDIT_KEY to verify it',
    };
  }
  let expectedSeq = Number(meta('anchor_seq') ?? 0) + 1;
  let expectedPrev = meta('anchor_hash') ?? GENESIS;
  let previousId: number | null = null;
  let rows = 0;
  const iterator = db
    .prepare(
      `SELECT ${SELECT_ROW}, chain_seq AS chainSeq, prev_hash AS prevHash, hash FROM audit WHERE chain_seq IS NOT NULL ORDER BY chain_seq`,
    )
    .iterate() as IterableIterator<AuditRow & { chainSeq: number; prevHash: string; hash: string }>;
  for (const { chainSeq, prevHash, hash, ...row } of iterator) {
    const fail = (reason: string): VerifyResult => ({ ok: false, rows, id: row.id, position: chainSeq, reason });
    if (chainSeq !== expectedSeq) {
      return fail(
        `chain position ${expectedSeq}${chainSeq > expectedSeq + 1 ? `–${chainSeq - 1}` : ''} is missing: a row was deleted` +
          (previousId === null ? ' at the start of the log' : ` between row ${previousId} and row ${row.id}`),
      );
    }
    if (prevHash !== expectedPrev)
      return fail(`row ${row.id} does not follow the row before it: a row was changed, inserted or deleted before it`);
    if (chainHash(key, prevHash, row as AuditRow) !== hash)
      return fail(`row ${row.id} was changed after it was written`);
    expectedPrev = hash;
    expectedSeq++;
    previousId = row.id;
    rows++;
  }
  const headSeq = Number(meta('head_seq') ?? expectedSeq - 1);
  if (headSeq < expectedSeq - 1) {
    return {
      ok: false,
      rows,
      id: previousId,
      position: expectedSeq - 1,
      reason: `row ${previousId} is past the chain head (position ${headSeq}): rows were added after the log was written`,
    };
  }
  if (headSeq !== expectedSeq - 1 || (meta('head_hash') ?? GENESIS) !== expectedPrev) {
    return {
      ok: false,
      rows,
      id: null,
      position: expectedSeq,
      reason: `the log ends at chain position ${expectedSeq - 1} but ${headSeq} rows were written: the newest rows were deleted`,
    };
  }
  return { ok: true, rows, chain: kind };
}
