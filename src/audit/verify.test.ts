import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { silentLogger } from '../observability/index.js';
import { chainHash, type ChainKey } from './chain.js';
import { SELECT_ROW, type AuditRow } from './row.js';
import { verifyChain } from './verify.js';
import { AuditLog, type AuditStart } from './writer.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const SHA256: ChainKey = { kind: 'sha256' };
const HMAC: ChainKey = { kind: 'hmac', key: 'k' };

let dir: string;
let db: Db;
let log: AuditLog;

function call(i: number): AuditStart {
  return {
    agent: i % 2 ? 'ops' : 'dev',
    transport: 'stdio',
    method: 'tools/call',
    server: 'files',
    name: 'read',
    exposedName: 'files__read',
    args: { path: `/tmp/${i}` },
  };
}

/** Ten finished rows (ids and chain positions 1–10), written the ways the gateway writes them. */
async function buildLog(key: ChainKey): Promise<void> {
  let clock = T0;
  log = new AuditLog(db, { maxArgsBytes: 4096, onFailure: 'refuse', key, log: silentLogger, now: () => clock++ });
  for (let i = 1; i <= 10; i++) {
    if (i % 3 === 0) {
      const started = await log.start(call(i));
      started!.end({ status: 'ok', responseBytes: 10 * i, inputTokens: i, outputTokens: 1, costUsd: i / 1000 });
    } else if (i % 3 === 1) {
      log.refused(call(i), { status: 'denied', error: 'denied by policy' });
    } else {
      log.record({ ...call(i), origin: 'upstream' }, { status: 'error', error: `failed ${i}` }, i * 1.5);
    }
    log.flush();
  }
}

function chainRow(id: number): AuditRow & { chainSeq: number; prevHash: string; hash: string } {
  return db
    .prepare(`SELECT ${SELECT_ROW}, chain_seq AS chainSeq, prev_hash AS prevHash, hash FROM audit WHERE id = ?`)
    .get(id) as AuditRow & { chainSeq: number; prevHash: string; hash: string };
}

const COLUMNS = [
  `ts = '2025-03-01T11:00:00.000Z'`,
  `agent = 'mallory'`,
  `exposed_name = 'files__write'`,
  `status = 'ok'`,
  `error = NULL`,
  `latency_ms = 1`,
  `args = '{"path":"/etc/passwd"}'`,
  `args_hash = 'x'`,
  `cost_usd = 99`,
];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-audit-verify-'));
  db = openDatabase(path.join(dir, 'switchboard.db'));
});

afterEach(() => {
  log.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verifyChain', () => {
  it('accepts an intact log and counts its rows', async () => {
    await buildLog(SHA256);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 10, chain: 'sha256' });
  });

  it('accepts an empty log', () => {
    log = new AuditLog(db, { maxArgsBytes: 4096, onFailure: 'refuse', key: SHA256, log: silentLogger });
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 0, chain: 'sha256' });
  });

  it('skips calls still in flight', async () => {
    await buildLog(SHA256);
    const pending = await log.start(call(11));
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 10, chain: 'sha256' });
    pending!.end({ status: 'ok' });
    log.flush();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 11, chain: 'sha256' });
  });

  it.each(COLUMNS)('names the row whose column was changed: SET %s', async (assignment) => {
    await buildLog(SHA256);
    db.prepare(`UPDATE audit SET ${assignment} WHERE id = 4`).run();
    expect(verifyChain(db, SHA256)).toEqual({
      ok: false,
      rows: 3,
      id: 4,
      position: 4,
      reason: 'row 4 was changed after it was written',
    });
  });

  it('catches a changed row whose hash was recomputed, at the row after it', async () => {
    await buildLog(SHA256);
    const row = chainRow(4);
    const forged = { ...row, agent: 'mallory' };
    db.prepare('UPDATE audit SET agent = ?, hash = ? WHERE id = 4').run(
      'mallory',
      chainHash(SHA256, row.prevHash, forged),
    );
    expect(verifyChain(db, SHA256)).toEqual({
      ok: false,
      rows: 4,
      id: 5,
      position: 5,
      reason: 'row 5 does not follow the row before it: a row was changed, inserted or deleted before it',
    });
  });

  it('names the missing chain position and its neighbours when a middle row is deleted', async () => {
    await buildLog(SHA256);
    db.prepare('DELETE FROM audit WHERE id = 5').run();
    expect(verifyChain(db, SHA256)).toEqual({
      ok: false,
      rows: 4,
      id: 6,
      position: 6,
      reason: 'chain position 5 is missing: a row was deleted between row 4 and row 6',
    });
  });

  it('names the range when several rows in a row are deleted', async () => {
    await buildLog(SHA256);
    db.prepare('DELETE FROM audit WHERE id IN (5, 6, 7)').run();
    expect(verifyChain(db, SHA256)).toMatchObject({
      ok: false,
      id: 8,
      reason: 'chain position 5–7 is missing: a row was deleted between row 4 and row 8',
    });
  });

  it('says when the first row is deleted', async () => {
    await buildLog(SHA256);
    db.prepare('DELETE FROM audit WHERE id = 1').run();
    expect(verifyChain(db, SHA256)).toMatchObject({
      ok: false,
      rows: 0,
      id: 2,
      reason: 'chain position 1 is missing: a row was deleted at the start of the log',
    });
  });

  it('reports that the newest rows were deleted', async () => {
    await buildLog(SHA256);
    db.prepare('DELETE FROM audit WHERE id = 10').run();
    expect(verifyChain(db, SHA256)).toEqual({
      ok: false,
      rows: 9,
      id: null,
      position: 10,
      reason: 'the log ends at chain position 9 but 10 rows were written: the newest rows were deleted',
    });
  });

  /** Inserts a row that was never written by the gateway, with a hash computed the unkeyed way. */
  function insertForged(chainSeq: number, prevHash: string): number {
    const id = Number(
      db
        .prepare(
          `INSERT INTO audit (ts, ts_ms, agent, transport, method, exposed_name, status, chain_seq, prev_hash, hash)
           VALUES (?, ?, 'mallory', 'stdio', 'tools/call', 'files__delete', 'ok', ?, ?, '')`,
        )
        .run(new Date(T0).toISOString(), T0, chainSeq, prevHash).lastInsertRowid,
    );
    db.prepare('UPDATE audit SET hash = ? WHERE id = ?').run(chainHash(SHA256, prevHash, chainRow(id)), id);
    return id;
  }

  it('catches a forged row that skips a chain position', async () => {
    await buildLog(SHA256);
    const id = insertForged(12, chainRow(10).hash);
    expect(verifyChain(db, SHA256)).toEqual({
      ok: false,
      rows: 10,
      id,
      position: 12,
      reason: 'chain position 11 is missing: a row was deleted between row 10 and row 11',
    });
  });

  it('catches a forged row placed before the first chain position', async () => {
    await buildLog(SHA256);
    const id = insertForged(0, chainRow(10).hash);
    expect(verifyChain(db, SHA256)).toMatchObject({ ok: false, id, position: 0 });
  });

  it('catches a forged row appended at the next chain position with a valid unkeyed hash', async () => {
    await buildLog(SHA256);
    insertForged(11, chainRow(10).hash);
    expect(verifyChain(db, SHA256)).toMatchObject({ ok: false, rows: 11 });
  });

  // Fixed bug: a row appended after the head is reported as the opposite of what happened.
  // input:    10 rows, then a forged row inserted at chain position 11 (valid unkeyed hash)
  // expected: a reason that names the extra row (row 11) and does not claim rows were deleted
  // actual:   { id: null, reason: 'the log ends at chain position 11 but 10 rows were written:
  //           the newest rows were deleted' }
  it('says a row was added, not deleted, when the log runs past its recorded head', async () => {
    await buildLog(SHA256);
    const id = insertForged(11, chainRow(10).hash);
    const result = verifyChain(db, SHA256);
    expect(result).toMatchObject({ ok: false, id });
    expect(result.ok ? '' : result.reason).not.toMatch(/deleted/);
  });

  // Fixed bug: the chain hash is computed over the in-memory JavaScript string, but SQLite stores
  // UTF-8, so a string with a lone surrogate does not read back the same and the row fails
  // verification although nobody touched it. Such strings arise in practice: the gateway
  // cuts error texts with String.prototype.slice (server/audited.ts), which can split an
  // emoji; and a client controls tool names and agent-supplied fields.
  // input:    refused(…, { status: 'error', error: ('x'.repeat(9) + '😀').slice(0, 10) })
  // expected: { ok: true, rows: 1, chain: 'sha256' }
  // actual:   { ok: false, id: 1, reason: 'row 1 was changed after it was written' }
  it('verifies a row whose text holds half of a surrogate pair', () => {
    log = new AuditLog(db, { maxArgsBytes: 4096, onFailure: 'refuse', key: SHA256, log: silentLogger, now: () => T0 });
    log.refused(call(1), { status: 'error', error: ('x'.repeat(9) + '😀').slice(0, 10) });
    log.flush();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 1, chain: 'sha256' });
  });

  describe('with an HMAC chain', () => {
    it('verifies with the key', async () => {
      await buildLog(HMAC);
      expect(verifyChain(db, HMAC)).toEqual({ ok: true, rows: 10, chain: 'hmac' });
    });

    it('fails with the wrong key, at the first row', async () => {
      await buildLog(HMAC);
      expect(verifyChain(db, { kind: 'hmac', key: 'wrong' })).toMatchObject({
        ok: false,
        id: 1,
        reason: 'row 1 was changed after it was written',
      });
    });

    it('says SWITCHBOARD_AUDIT_KEY is needed when no key is given', async () => {
      await buildLog(HMAC);
      const result = verifyChain(db, SHA256);
      expect(result.ok).toBe(false);
      expect(result.ok ? '' : result.reason).toContain('SWITCHBOARD_AUDIT_KEY');
    });

    it('catches an edit whose hash was recomputed without the key', async () => {
      await buildLog(HMAC);
      const row = chainRow(4);
      db.prepare('UPDATE audit SET agent = ?, hash = ? WHERE id = 4').run(
        'mallory',
        chainHash(SHA256, row.prevHash, { ...row, agent: 'mallory' }),
      );
      expect(verifyChain(db, HMAC)).toMatchObject({
        ok: false,
        id: 4,
        reason: 'row 4 was changed after it was written',
      });
    });
  });
});
