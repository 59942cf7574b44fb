import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { GatewayError } from '../errors.js';
import { createLogger } from '../observability/index.js';
import { GENESIS } from './chain.js';
import { verifyChain } from './verify.js';
import { AuditLog, type AuditOptions, type AuditStart } from './writer.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const SHA256 = { kind: 'sha256' } as const;
const DEAD_PID = 2_147_483_646;

const CALL: AuditStart = {
  agent: 'ops',
  session: 's1',
  client: 'claude-code',
  transport: 'stdio',
  method: 'tools/call',
  server: 'files',
  name: 'read',
  exposedName: 'files__read',
  decision: 'allow files__*',
  args: { path: '/tmp/a', token: 'hunter2' },
};

interface StoredRow {
  id: number;
  status: string;
  error: string | null;
  latency_ms: number | null;
  owner: string | null;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
}

let dir: string;
let file: string;
let db: Db;
/** A second connection on the same file: it sees only what the writer committed. */
let reader: Database.Database;
let lines: string[];
let clock: number;
let logs: AuditLog[];

function auditLog(options: Partial<AuditOptions> = {}): AuditLog {
  const log = new AuditLog(db, {
    maxArgsBytes: 4096,
    onFailure: 'refuse',
    key: SHA256,
    log: createLogger({ level: 'error', write: (line) => lines.push(line) }),
    now: () => clock,
    ...options,
  });
  logs.push(log);
  return log;
}

function committed(): StoredRow[] {
  return reader
    .prepare('SELECT id, status, error, latency_ms, owner, chain_seq, prev_hash, hash FROM audit ORDER BY id')
    .all() as StoredRow[];
}

function committedRow(id: number): Record<string, unknown> | undefined {
  return reader.prepare('SELECT * FROM audit WHERE id = ?').get(id) as Record<string, unknown> | undefined;
}

function meta(key: string): string | undefined {
  return reader.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(key) as string | undefined;
}

/** Rows in the chain, in chain order, each linked to the one before. */
function expectLinkedChain(): StoredRow[] {
  const chain = committed()
    .filter((row) => row.chain_seq !== null)
    .sort((a, b) => a.chain_seq! - b.chain_seq!);
  let prev = GENESIS;
  chain.forEach((row, i) => {
    expect(row.chain_seq).toBe(i + 1);
    expect(row.prev_hash).toBe(prev);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    prev = row.hash!;
  });
  expect(meta('head_seq')).toBe(String(chain.length));
  expect(meta('head_hash')).toBe(prev);
  return chain;
}

function insertPending(owner: string, tsMs: number): number {
  return Number(
    db
      .prepare(
        `INSERT INTO audit (ts, ts_ms, agent, transport, method, exposed_name, status, owner)
         VALUES (?, ?, 'ops', 'stdio', 'tools/call', 'files__read', 'pending', ?)`,
      )
      .run(new Date(tsMs).toISOString(), tsMs, owner).lastInsertRowid,
  );
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-audit-writer-'));
  file = path.join(dir, 'switchboard.db');
  db = openDatabase(file);
  reader = new Database(file, { readonly: true });
  lines = [];
  clock = T0;
  logs = [];
});

afterEach(() => {
  db.pragma('max_page_count = 1073741823');
  for (const log of logs) log.close();
  vi.restoreAllMocks();
  reader.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditLog.start', () => {
  it('resolves only once the pending row is committed', async () => {
    const log = auditLog();
    // Read on the other connection at the moment start() resolves, not later.
    const atResolve = log.start(CALL).then((call) => ({ call, row: committedRow(call!.id) }));
    expect(committed()).toEqual([]);
    const { call, row } = await atResolve;
    expect(call?.id).toBeGreaterThan(0);
    expect(row).toMatchObject({
      id: call!.id,
      ts: '2025-03-01T12:00:00.000Z',
      ts_ms: T0,
      agent: 'ops',
      session: 's1',
      client: 'claude-code',
      transport: 'stdio',
      origin: 'agent',
      method: 'tools/call',
      server: 'files',
      name: 'read',
      exposed_name: 'files__read',
      decision: 'allow files__*',
      status: 'pending',
      args: '{"path":"/tmp/a","token":"[REDACTED]"}',
      owner: `${hostname()}:${process.pid}`,
      latency_ms: null,
      chain_seq: null,
      hash: null,
    });
  });

  it('commits the rows of calls started in the same tick in one transaction', async () => {
    const original = db.transaction.bind(db);
    let transactions = 0;
    vi.spyOn(db, 'transaction').mockImplementation(((fn: (...args: unknown[]) => unknown) =>
      original((...args: unknown[]) => {
        transactions++;
        return fn(...args);
      })) as Db['transaction']);
    const log = auditLog();

    const starts = Array.from({ length: 50 }, (_, i) => log.start({ ...CALL, args: { i } }));
    expect(log.pendingOps).toBe(50);
    expect(committed()).toHaveLength(0);

    const calls = await Promise.all(starts);
    expect(transactions).toBe(1);
    const rows = committed();
    expect(rows).toHaveLength(50);
    expect(rows.every((row) => row.status === 'pending')).toBe(true);
    expect(calls.map((call) => call!.id)).toEqual(rows.map((row) => row.id));
  });
});

describe('AuditCall.end', () => {
  it("commits an outcome with the next call's start, so one call in flight costs one commit", async () => {
    const log = auditLog();
    const first = await log.start(CALL);
    first!.end({ status: 'ok' });
    await new Promise((resolve) => setImmediate(resolve)); // a turn with nothing else to write
    expect(committedRow(first!.id)?.status).toBe('pending');
    expect(log.pendingOps).toBe(1);
    const second = await log.start(CALL);
    expect(log.pendingOps).toBe(0);
    expect(committedRow(first!.id)?.status).toBe('ok');
    expect(committedRow(second!.id)?.status).toBe('pending');
  });

  it('commits a lone outcome on its own shortly after', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const log = auditLog();
      const call = await log.start(CALL);
      call!.end({ status: 'ok' });
      expect(committedRow(call!.id)?.status).toBe('pending');
      vi.advanceTimersByTime(10);
      expect(committedRow(call!.id)?.status).toBe('ok');
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes the outcome on flush and links the row into the chain', async () => {
    const log = auditLog();
    const call = await log.start(CALL);
    call!.end({
      status: 'ok',
      responseBytes: 42,
      result: '{"content":[]}',
      model: 'm',
      provider: 'p',
      attempts: 'p:ok',
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.0012,
    });
    expect(committedRow(call!.id)?.status).toBe('pending');

    log.flush();
    const row = committedRow(call!.id)!;
    expect(row).toMatchObject({
      status: 'ok',
      error: null,
      response_bytes: 42,
      result: '{"content":[]}',
      model: 'm',
      provider: 'p',
      attempts: 'p:ok',
      input_tokens: 10,
      output_tokens: 5,
      cost_usd: 0.0012,
      owner: null,
      chain_seq: 1,
      prev_hash: GENESIS,
    });
    expect(row.latency_ms).toEqual(expect.any(Number));
    expect(row.latency_ms as number).toBeGreaterThanOrEqual(0);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 1, chain: 'sha256' });
  });

  it('keeps the first outcome when end() is called twice', async () => {
    const log = auditLog();
    const call = await log.start(CALL);
    call!.end({ status: 'ok' });
    call!.end({ status: 'error', error: 'late' });
    log.flush();
    expect(committed()).toMatchObject([{ status: 'ok', error: null, chain_seq: 1 }]);
    expect(meta('head_seq')).toBe('1');
  });
});

describe('AuditLog.refused and record', () => {
  it('refused() writes a finished row with latency 0', () => {
    const log = auditLog();
    log.refused({ ...CALL, decision: 'deny files__*' }, { status: 'denied', error: 'denied by policy' });
    expect(committed()).toEqual([]);
    log.flush();
    const [row] = committed();
    expect(row).toMatchObject({
      status: 'denied',
      error: 'denied by policy',
      latency_ms: 0,
      owner: null,
      chain_seq: 1,
    });
    expect(committedRow(row!.id)).toMatchObject({
      decision: 'deny files__*',
      args: '{"path":"/tmp/a","token":"[REDACTED]"}',
      ts: '2025-03-01T12:00:00.000Z',
    });
  });

  it('record() writes a finished exchange in one row', () => {
    const log = auditLog();
    log.record(
      { agent: 'ops', transport: 'stdio', origin: 'upstream', method: 'sampling/createMessage', server: 'files' },
      { status: 'ok', model: 'claude', provider: 'anthropic', inputTokens: 100, outputTokens: 20, costUsd: 0.003 },
      1234.5,
    );
    log.flush();
    const [row] = committed();
    expect(committedRow(row!.id)).toMatchObject({
      origin: 'upstream',
      method: 'sampling/createMessage',
      status: 'ok',
      latency_ms: 1234.5,
      model: 'claude',
      provider: 'anthropic',
      input_tokens: 100,
      output_tokens: 20,
      cost_usd: 0.003,
      args: null,
      args_hash: null,
      owner: null,
      chain_seq: 1,
    });
  });
});

describe('the hash chain', () => {
  it('gives every finished row the next chain position, in the order rows finish', async () => {
    const log = auditLog();
    const [a, b] = await Promise.all([log.start(CALL), log.start(CALL)]);
    log.refused(CALL, { status: 'quota', error: 'quota' });
    b!.end({ status: 'ok' });
    log.flush();
    a!.end({ status: 'error', error: 'boom' });
    log.record({ ...CALL, origin: 'upstream' }, { status: 'ok' }, 5);
    log.flush();
    const c = await log.start(CALL); // still pending: not in the chain

    const chain = expectLinkedChain();
    expect(chain.map((row) => row.id)).toEqual([3, b!.id, a!.id, 4]);
    expect(committedRow(c!.id)).toMatchObject({ status: 'pending', chain_seq: null, prev_hash: null });
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 4, chain: 'sha256' });
  });

  it('continues the chain of an earlier writer on the same database', () => {
    auditLog().record(CALL, { status: 'ok' }, 1);
    logs[0]!.flush();
    const second = auditLog();
    second.record(CALL, { status: 'ok' }, 2);
    second.flush();
    expect(expectLinkedChain()).toHaveLength(2);
    expect(verifyChain(db, SHA256)).toMatchObject({ ok: true, rows: 2 });
  });
});

describe('when the database cannot be written', () => {
  /** Stops the file from growing, so the next insert of a large row fails with SQLITE_FULL. */
  function fillDisk(): void {
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
  }
  const BIG: AuditStart = { ...CALL, args: { content: 'x'.repeat(200_000) } };

  it('refuses calls with onFailure "refuse": start() rejects and the error is logged', async () => {
    const log = auditLog({ onFailure: 'refuse', maxArgsBytes: 1_000_000 });
    await log.start(CALL);
    fillDisk();

    const error = await log.start(BIG).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toMatch(
      /^the audit log cannot be written \(.*full.*\), so calls are refused/,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/error +cannot write the audit log error=.*full/);
    expect(committed()).toHaveLength(1);
  });

  it('lets calls through unaudited with onFailure "allow", logs the error, and recovers', async () => {
    const log = auditLog({ onFailure: 'allow', maxArgsBytes: 1_000_000 });
    await log.start(CALL);
    fillDisk();

    await expect(log.start(BIG)).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot write the audit log error=.*full/);
    expect(committed()).toHaveLength(1);

    db.pragma('max_page_count = 1073741823');
    const call = await log.start(BIG);
    expect(committedRow(call!.id)?.status).toBe('pending');
  });
});

describe('AuditLog.recoverInterrupted', () => {
  it('marks the pending rows of a dead process interrupted and chains them; a live process keeps its rows', () => {
    const log = auditLog();
    log.refused(CALL, { status: 'denied' });
    log.flush();
    const dead = insertPending(`${hostname()}:${DEAD_PID}`, T0);
    const live = insertPending(`${hostname()}:${process.ppid}`, T0);
    const elsewhere = insertPending(`another-host.example:${DEAD_PID}`, T0);

    expect(log.recoverInterrupted()).toBe(1);

    expect(committedRow(dead)).toMatchObject({
      status: 'interrupted',
      error: 'the gateway stopped before the call ended',
      owner: null,
      chain_seq: 2,
    });
    expect(committedRow(live)).toMatchObject({
      status: 'pending',
      owner: `${hostname()}:${process.ppid}`,
      chain_seq: null,
    });
    expect(committedRow(elsewhere)).toMatchObject({ status: 'pending', chain_seq: null });
    expectLinkedChain();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 2, chain: 'sha256' });

    expect(log.recoverInterrupted()).toBe(0);
  });
});

describe('AuditLog.prune', () => {
  it('deletes finished rows older than the limit, never pending ones, and the rest still verifies', async () => {
    const log = auditLog();
    clock = T0 - 40 * DAY;
    const oldPending = await log.start(CALL);
    for (let i = 0; i < 3; i++) log.refused(CALL, { status: 'denied' });
    log.flush();
    clock = T0 - DAY;
    for (let i = 0; i < 2; i++) log.record(CALL, { status: 'ok' }, 3);
    log.flush();
    clock = T0;

    expect(log.prune(30)).toBe(3);

    const left = committed();
    expect(left.map((row) => row.status)).toEqual(['pending', 'ok', 'ok']);
    expect(left[0]!.id).toBe(oldPending!.id);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 2, chain: 'sha256' });
    expect(log.prune(30)).toBe(0);

    // The chain goes on from what is left, the old pending call included.
    oldPending!.end({ status: 'ok' });
    log.record(CALL, { status: 'ok' }, 1);
    log.flush();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 4, chain: 'sha256' });
  });

  it('can delete every finished row and the log still verifies and grows', () => {
    const log = auditLog();
    clock = T0 - 10 * DAY;
    for (let i = 0; i < 4; i++) log.refused(CALL, { status: 'denied' });
    log.flush();
    clock = T0;

    expect(log.prune(1)).toBe(4);
    expect(committed()).toEqual([]);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 0, chain: 'sha256' });

    log.refused(CALL, { status: 'denied' });
    log.flush();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 1, chain: 'sha256' });
  });

  it('deletes nothing when no row is old enough', () => {
    const log = auditLog();
    for (let i = 0; i < 3; i++) log.refused(CALL, { status: 'denied' });
    log.flush();
    expect(log.prune(30)).toBe(0);
    expect(committed()).toHaveLength(3);
  });
});
