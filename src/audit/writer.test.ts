import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { GatewayError } from '../errors.js';
import { createLogger, silentLogger } from '../observability/index.js';
import { GENESIS } from './chain.js';
import { AuditJournal } from './journal.js';
import { auditArgs } from './redact.js';
import { verifyChain } from './verify.js';
import { AuditLog, type AuditOptions, type AuditStart } from './writer.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const SHA256 = { kind: 'sha256' } as const;
const DEAD_PID = 2_147_483_646;
/** A process of this machine that has run and exited: the owner of a killed gateway's journal. */
const EXITED_PID = spawnSync(process.execPath, ['-e', '']).pid;
const EXITED_OWNER = `${hostname()}:${EXITED_PID}`;
const INTERRUPTED = 'the gateway stopped before the call ended';
/** The gateway as built from these sources (the test run's global setup builds it). */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');

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

/** CALL's row as the database holds it, without the fields its outcome sets. */
const CALL_ROW = {
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
  args: '{"path":"/tmp/a","token":"[REDACTED]"}',
  args_hash: auditArgs(CALL.args, 4096).argsHash,
  request_bytes: auditArgs(CALL.args, 4096).requestBytes,
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
let journalDir: string;
let db: Db;
/** A second connection on the same file: it sees only what the writer committed. */
let reader: Database.Database;
let lines: string[];
let clock: number;
let logs: AuditLog[];
let children: ChildProcess[];

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

/** The journal files in the database's journal folder. */
function journalFiles(): string[] {
  return existsSync(journalDir) ? readdirSync(journalDir).sort() : [];
}

/** The one journal in the folder (a lone AuditLog's): its name, and its lines parsed. */
function onlyJournal(): { name: string; header: unknown; starts: unknown[][] } {
  const names = journalFiles();
  expect(names).toHaveLength(1);
  const [header, ...starts] = readFileSync(path.join(journalDir, names[0]!), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
  return { name: names[0]!, header, starts: starts as unknown[][] };
}

/** The journal's entry numbers, in file order. */
function journaledSeqs(): unknown[] {
  return onlyJournal().starts.map((start) => start[0]);
}

/**
 * Every insert and update of an audit row on the writer's connection, in order (temporary
 * triggers: only this connection has them, and they die with it).
 */
function watchWrites(): () => { op: string; id: number; status: string }[] {
  db.exec(`
    CREATE TEMP TABLE writes (n INTEGER PRIMARY KEY, op TEXT, id INTEGER, status TEXT);
    CREATE TEMP TRIGGER audit_inserted AFTER INSERT ON main.audit
      BEGIN INSERT INTO writes (op, id, status) VALUES ('insert', NEW.id, NEW.status); END;
    CREATE TEMP TRIGGER audit_updated AFTER UPDATE ON main.audit
      BEGIN INSERT INTO writes (op, id, status) VALUES ('update', NEW.id, NEW.status); END;`);
  return () => db.prepare('SELECT op, id, status FROM writes ORDER BY n').all() as never;
}

/**
 * The journal a gateway leaves when it is killed after `starts` (each `stepMs` after the
 * one before) and before their commit: written by a real AuditLog (on a database of its
 * own, so nothing of it reaches this one), with its header naming a process that has exited.
 */
/**
 * The 10 ms commit timer never fires (until the test flushes): awaiting a start takes a
 * turn of the event loop (the journal write is a setImmediate), and on a loaded machine
 * 10 ms can pass before the test looks at what is, and is not, committed yet.
 */
function holdCommits(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

async function killedGatewayJournal(starts: AuditStart[], stepMs = 0): Promise<string> {
  const otherFile = path.join(dir, 'other.db');
  const otherDb = openDatabase(otherFile);
  const other = new AuditLog(otherDb, {
    maxArgsBytes: 4096,
    onFailure: 'refuse',
    key: SHA256,
    log: silentLogger,
    now: () => clock,
  });
  try {
    // The tests that call this hold commits (holdCommits): its 10 ms commit cannot run yet.
    for (const start of starts) {
      clock += stepMs;
      await other.start(start);
    }
    const [name] = readdirSync(`${otherFile}.journal`);
    const text = readFileSync(path.join(`${otherFile}.journal`, name!), 'utf8');
    expect(text.split('\n')).toHaveLength(starts.length + 2); // header, starts, final newline
    return text.replace(/^.*\n/, JSON.stringify({ owner: EXITED_OWNER }) + '\n');
  } finally {
    other.close();
    otherDb.close();
  }
}

const LEFT_JOURNAL = `${EXITED_PID}-${T0}-k1ll3d.jsonl`;

/** Puts a journal in this database's journal folder, as a gateway that died left it. */
function leaveJournal(text: string, name = LEFT_JOURNAL): string {
  mkdirSync(journalDir, { recursive: true });
  writeFileSync(path.join(journalDir, name), text);
  return name;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Stops the file from growing, so the next insert of a large row fails with SQLITE_FULL. */
function fillDisk(): void {
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
}
const BIG: AuditStart = { ...CALL, args: { content: 'x'.repeat(200_000) } };

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-audit-writer-'));
  file = path.join(dir, 'switchboard.db');
  journalDir = `${file}.journal`;
  db = openDatabase(file);
  reader = new Database(file, { readonly: true });
  lines = [];
  clock = T0;
  logs = [];
  children = [];
});

afterEach(() => {
  vi.useRealTimers();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  db.pragma('max_page_count = 1073741823');
  for (const log of logs) log.close();
  vi.restoreAllMocks();
  reader.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditLog.start', () => {
  it('resolves at once, its start already in the journal and nothing yet in the database', async () => {
    holdCommits();
    const log = auditLog();
    const call = await log.start(CALL);

    expect(call).toBeDefined();
    expect(committed()).toEqual([]);
    expect(log.pendingOps).toBe(1);
    const { name, header, starts } = onlyJournal();
    expect(name).toMatch(new RegExp(`^${process.pid}-\\d+-[0-9a-z]+\\.jsonl$`));
    expect(header).toEqual({ owner: `${hostname()}:${process.pid}` });
    expect(starts).toEqual([
      [
        1,
        CALL_ROW.ts,
        'ops',
        's1',
        'claude-code',
        'stdio',
        'agent',
        'tools/call',
        'files',
        'read',
        'files__read',
        'allow files__*',
        CALL_ROW.args_hash,
        CALL_ROW.args,
        CALL_ROW.request_bytes,
      ],
    ]);
    // Arguments are redacted before they touch the disk, journal included.
    expect(readFileSync(path.join(journalDir, name), 'utf8')).not.toContain('hunter2');
  });

  it('commits the rows of calls started within 10 ms in one transaction, then cuts the journal to its header', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const original = db.transaction.bind(db);
    let transactions = 0;
    vi.spyOn(db, 'transaction').mockImplementation(((fn: (...args: unknown[]) => unknown) =>
      original((...args: unknown[]) => {
        transactions++;
        return fn(...args);
      })) as Db['transaction']);
    const log = auditLog();

    const calls = await Promise.all(Array.from({ length: 49 }, (_, i) => log.start({ ...CALL, args: { i } })));
    vi.advanceTimersByTime(6);
    calls.push(await log.start({ ...CALL, args: { i: 49 } })); // a later turn, same window
    expect(journaledSeqs()).toHaveLength(50);
    vi.advanceTimersByTime(3);
    expect(transactions).toBe(0);
    expect(committed()).toEqual([]);

    vi.advanceTimersByTime(1); // 10 ms after the first start
    expect(transactions).toBe(1);
    const rows = committed();
    expect(rows).toHaveLength(50);
    expect(rows.every((row) => row.status === 'pending' && row.owner === `${hostname()}:${process.pid}`)).toBe(true);
    expect(calls.map((call) => call!.id)).toEqual(rows.map((row) => row.id));
    const { argsHash, requestBytes } = auditArgs({ i: 0 }, 4096);
    expect(committedRow(rows[0]!.id)).toMatchObject({
      ...CALL_ROW,
      args: '{"i":0}',
      args_hash: argsHash,
      request_bytes: requestBytes,
      chain_seq: null,
    });
    const { name, starts } = onlyJournal();
    expect(starts).toEqual([]);
    expect(meta(`journal:${name}`)).toBe('50');
  });

  it('journals the starts of one turn of the event loop together, after the callbacks of that turn', async () => {
    const log = auditLog();
    // Two starts from two separate callbacks of one turn (as requests read on two HTTP
    // connections are): microtasks run between the callbacks, the journal write waits
    // for both, so that they share it.
    const started: Promise<unknown>[] = [];
    let seenBySecond: number | undefined;
    await new Promise<void>((resolve) => {
      setImmediate(() => started.push(log.start({ ...CALL, args: { i: 1 } })));
      setImmediate(() => {
        seenBySecond = journaledSeqs().length;
        started.push(log.start({ ...CALL, args: { i: 2 } }));
        resolve();
      });
    });
    expect(seenBySecond).toBe(0);
    await Promise.all(started);
    expect(journaledSeqs()).toHaveLength(2);
  });

  it('writes a start still waiting for its journal write when the log closes, rather than lose it', async () => {
    const log = auditLog();
    const call = log.start(CALL);
    log.close();
    await expect(call).resolves.toBeDefined();
    expect(committed()).toHaveLength(1);
  });

  it('refuses a start once the log is closed (the gateway is shutting down), whatever onFailure says', async () => {
    const log = auditLog({ onFailure: 'allow' });
    log.close();
    await expect(log.start(CALL)).rejects.toThrow(/shutting down/);
    expect(committed()).toEqual([]);
  });

  it('commits on the next turn, without waiting 10 ms, once 1024 rows are queued', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // the 10 ms timer never fires here
    const log = auditLog();
    for (let i = 0; i < 1023; i++) await log.start({ ...CALL, args: { i } });
    await nextTurn();
    expect(committed()).toEqual([]);

    log.refused(CALL, { status: 'denied' });
    expect(committed()).toEqual([]);
    await nextTurn();
    expect(committed()).toHaveLength(1024);
    expect(log.pendingOps).toBe(0);
  });

  it('writes the journal where the journal option says', async () => {
    holdCommits();
    const elsewhere = path.join(dir, 'journals');
    const log = auditLog({ journal: elsewhere });
    await log.start(CALL);
    expect(journalFiles()).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-.*\\.jsonl$`))]);
  });

  it('without a journal, resolves only once the pending row is committed', async () => {
    const log = auditLog({ journal: false });
    // Read on the other connection at the moment start() resolves, not later.
    const atResolve = log.start(CALL).then((call) => ({ call, row: committedRow(call!.id) }));
    expect(committed()).toEqual([]);
    const { call, row } = await atResolve;
    expect(call?.id).toBeGreaterThan(0);
    expect(row).toMatchObject({
      ...CALL_ROW,
      id: call!.id,
      status: 'pending',
      owner: `${hostname()}:${process.pid}`,
      latency_ms: null,
      chain_seq: null,
      hash: null,
    });
    expect(existsSync(journalDir)).toBe(false);
  });

  it('without a journal, commits the rows of calls started in the same tick in one transaction', async () => {
    const original = db.transaction.bind(db);
    let transactions = 0;
    vi.spyOn(db, 'transaction').mockImplementation(((fn: (...args: unknown[]) => unknown) =>
      original((...args: unknown[]) => {
        transactions++;
        return fn(...args);
      })) as Db['transaction']);
    const log = auditLog({ journal: false });

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

  it('on an in-memory database, has no journal: a start waits for its commit', async () => {
    const memory = openDatabase(':memory:');
    try {
      const log = new AuditLog(memory, { maxArgsBytes: 4096, onFailure: 'refuse', key: SHA256, log: silentLogger });
      const call = await log.start(CALL);
      expect(memory.prepare('SELECT status FROM audit WHERE id = ?').pluck().get(call!.id)).toBe('pending');
      expect(existsSync(path.resolve(':memory:.journal'))).toBe(false);
      log.close();
    } finally {
      memory.close();
    }
  });
});

describe('AuditCall.end', () => {
  it('writes a call that ends before its start is committed once, finished, with its chain link', async () => {
    holdCommits();
    const writes = watchWrites();
    const log = auditLog();
    const call = await log.start(CALL);
    call!.end({ status: 'ok', responseBytes: 42, result: '{"content":[]}' });
    expect(committed()).toEqual([]);

    log.flush();
    expect(call!.id).toBeGreaterThan(0);
    expect(writes()).toEqual([{ op: 'insert', id: call!.id, status: 'ok' }]);
    const row = committedRow(call!.id)!;
    expect(row).toMatchObject({
      ...CALL_ROW,
      status: 'ok',
      error: null,
      response_bytes: 42,
      result: '{"content":[]}',
      owner: null,
      chain_seq: 1,
      prev_hash: GENESIS,
    });
    expect(row.latency_ms as number).toBeGreaterThanOrEqual(0);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 1, chain: 'sha256' });
    const { name, starts } = onlyJournal();
    expect(starts).toEqual([]);
    expect(meta(`journal:${name}`)).toBe('1');
  });

  it('gives calls that end before their commit ids after the rows already written in that commit', async () => {
    const log = auditLog();
    const [a, b, c] = await Promise.all([log.start(CALL), log.start(CALL), log.start(CALL)]);
    b!.end({ status: 'ok' });
    log.record({ ...CALL, origin: 'upstream' }, { status: 'ok' }, 1);
    a!.end({ status: 'error', error: 'boom' });
    log.flush();
    // Starts still pending keep their place; finished rows are inserted as they finished.
    expect(committed().map((row) => [row.id, row.status])).toEqual([
      [1, 'pending'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'error'],
    ]);
    expect([c!.id, b!.id, a!.id]).toEqual([1, 2, 4]);
    expectLinkedChain();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 3, chain: 'sha256' });
  });

  it('commits a lone outcome of a committed call within 10 ms, as an update of its row', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const writes = watchWrites();
    const log = auditLog();
    const call = await log.start(CALL);
    vi.advanceTimersByTime(10);
    expect(committedRow(call!.id)?.status).toBe('pending');

    call!.end({ status: 'ok' });
    vi.advanceTimersByTime(9);
    expect(committedRow(call!.id)?.status).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(committedRow(call!.id)).toMatchObject({ status: 'ok', owner: null, chain_seq: 1 });
    expect(writes()).toEqual([
      { op: 'insert', id: call!.id, status: 'pending' },
      { op: 'update', id: call!.id, status: 'ok' },
    ]);
  });

  it('writes the outcome of a committed call on flush and links the row into the chain', async () => {
    const log = auditLog();
    const call = await log.start(CALL);
    log.flush();
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

  it("without a journal, commits an outcome with the next call's start, so one call in flight costs one commit", async () => {
    const log = auditLog({ journal: false });
    const first = await log.start(CALL);
    first!.end({ status: 'ok' });
    await nextTurn(); // a turn with nothing else to write
    expect(committedRow(first!.id)?.status).toBe('pending');
    expect(log.pendingOps).toBe(1);
    const second = await log.start(CALL);
    expect(log.pendingOps).toBe(0);
    expect(committedRow(first!.id)?.status).toBe('ok');
    expect(committedRow(second!.id)?.status).toBe('pending');
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
    // Nothing waits on a refusal: it is not journaled.
    expect(onlyJournal().starts).toEqual([]);
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
    b!.end({ status: 'ok' }); // before its start is committed: its row is inserted now, finished
    log.flush();
    a!.end({ status: 'error', error: 'boom' });
    log.record({ ...CALL, origin: 'upstream' }, { status: 'ok' }, 5);
    log.flush();
    const c = await log.start(CALL); // still pending: not in the chain
    log.flush();

    const chain = expectLinkedChain();
    expect(chain.map((row) => [row.id, row.status])).toEqual([
      [2, 'quota'],
      [b!.id, 'ok'],
      [a!.id, 'error'],
      [4, 'ok'],
    ]);
    expect([a!.id, b!.id, c!.id]).toEqual([1, 3, 5]);
    expect(committedRow(c!.id)).toMatchObject({ status: 'pending', chain_seq: null, prev_hash: null });
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 4, chain: 'sha256' });
  });

  it('without a journal, gives every finished row the next chain position, in the order rows finish', async () => {
    const log = auditLog({ journal: false });
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
  const REFUSED = /^the audit log cannot be written \(.*full.*\), so calls are refused/;

  it('with onFailure "refuse", a journaled call goes on and is written when the database recovers; new calls are refused meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const log = auditLog({ onFailure: 'refuse', maxArgsBytes: 1_000_000 });
    const first = await log.start(CALL);
    vi.advanceTimersByTime(10);
    fillDisk();

    const big = await log.start(BIG); // journaled before its commit fails: it goes ahead
    expect(big).toBeDefined();
    vi.advanceTimersByTime(10);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/error +cannot write the audit log error=.*full/);
    expect(committed()).toMatchObject([{ id: first!.id, status: 'pending' }]);

    const error = await log.start(CALL).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toMatch(REFUSED);
    expect(journaledSeqs()).toEqual([2]); // the refused call left no trace to recover

    big!.end({ status: 'ok' });
    vi.advanceTimersByTime(2_000); // retries, still failing: logged once
    expect(lines).toHaveLength(1);
    expect(committed()).toHaveLength(1);
    await expect(log.start(CALL)).rejects.toThrow(REFUSED);

    db.pragma('max_page_count = 1073741823');
    vi.advanceTimersByTime(1_000);
    expect(committed()).toMatchObject([
      { id: first!.id, status: 'pending' },
      { id: big!.id, status: 'ok', chain_seq: 1 },
    ]);
    expect(committedRow(big!.id)?.args).toContain('xxxx');
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 1, chain: 'sha256' });
    expect(onlyJournal().starts).toEqual([]);
    expect(meta(`journal:${onlyJournal().name}`)).toBe('2');
    await expect(log.start(CALL)).resolves.toBeDefined();
    expect(lines).toHaveLength(1);
  });

  it('with onFailure "allow", lets new calls through unaudited, logs the error once, and recovers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const log = auditLog({ onFailure: 'allow', maxArgsBytes: 1_000_000 });
    await log.start(CALL);
    vi.advanceTimersByTime(10);
    fillDisk();

    const big = await log.start(BIG);
    vi.advanceTimersByTime(10);
    await expect(log.start(CALL)).resolves.toBeUndefined();
    await expect(log.start(BIG)).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot write the audit log error=.*full/);
    expect(committed()).toHaveLength(1);
    expect(journaledSeqs()).toEqual([2]);

    db.pragma('max_page_count = 1073741823');
    vi.advanceTimersByTime(1_000); // the retry
    expect(committedRow(big!.id)).toMatchObject({ status: 'pending', owner: `${hostname()}:${process.pid}` });
    const call = await log.start(BIG);
    log.flush();
    expect(committedRow(call!.id)?.status).toBe('pending');
    expect(committed()).toHaveLength(3);
  });

  it('with onFailure "refuse", refuses a call whose start cannot be journaled, and takes the next one', async () => {
    const log = auditLog();
    // A disk that fills up under the journal cannot be had here: the write fails as it would.
    vi.spyOn(AuditJournal.prototype, 'append').mockImplementationOnce(() => {
      throw new Error('ENOSPC: no space left on device, write');
    });

    await expect(log.start(CALL)).rejects.toThrow(
      new GatewayError(
        'upstream_unavailable',
        'the audit log cannot be written (ENOSPC: no space left on device, write), so calls are refused (gateway.audit.onFailure: "refuse")',
      ),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/error +cannot write the audit journal error="?ENOSPC: no space left on device, write/);
    expect(log.pendingOps).toBe(0);

    const call = await log.start(CALL);
    log.flush();
    expect(committed()).toMatchObject([{ id: call!.id, status: 'pending' }]);
  });

  it('with onFailure "allow", lets a call whose start cannot be journaled through unaudited', async () => {
    const log = auditLog({ onFailure: 'allow' });
    vi.spyOn(AuditJournal.prototype, 'append').mockImplementationOnce(() => {
      throw new Error('EIO: i/o error, write');
    });
    await expect(log.start(CALL)).resolves.toBeUndefined();
    expect(lines).toEqual([expect.stringMatching(/cannot write the audit journal error=.*EIO/)]);
    log.flush();
    expect(committed()).toEqual([]);
  });

  it('without a journal, refuses calls with onFailure "refuse": start() rejects and the error is logged', async () => {
    const log = auditLog({ onFailure: 'refuse', maxArgsBytes: 1_000_000, journal: false });
    await log.start(CALL);
    fillDisk();

    const error = await log.start(BIG).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toMatch(REFUSED);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/error +cannot write the audit log error=.*full/);
    expect(committed()).toHaveLength(1);
  });

  it('without a journal, lets calls through unaudited with onFailure "allow", logs the error, and recovers', async () => {
    const log = auditLog({ onFailure: 'allow', maxArgsBytes: 1_000_000, journal: false });
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

describe('AuditLog.close', () => {
  it('writes what is queued, then removes its journal and its mark', async () => {
    holdCommits();
    const log = auditLog();
    const call = await log.start(CALL);
    log.flush();
    const { name } = onlyJournal();
    expect(meta(`journal:${name}`)).toBe('1');
    call!.end({ status: 'ok' });
    await log.start(CALL);

    log.close();
    expect(committed().map((row) => row.status)).toEqual(['ok', 'pending']);
    expect(journalFiles()).toEqual([]);
    expect(meta(`journal:${name}`)).toBeUndefined();
  });

  it('keeps its journal when the database cannot be written, and the next gateway recovers the call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // no retry behind the test's back
    const log = auditLog({ maxArgsBytes: 1_000_000 });
    await log.start(CALL);
    log.flush();
    fillDisk();
    await log.start(BIG);

    log.close();
    const { name, starts } = onlyJournal();
    expect(starts.map((start) => start[0])).toEqual([2]);
    expect(meta(`journal:${name}`)).toBe('1');

    // A gateway with this pid is "this process starting" to the next one, like a
    // restarted container's: its journal counts as left behind.
    db.pragma('max_page_count = 1073741823');
    expect(auditLog().recoverInterrupted()).toBe(2); // the committed start and the journaled one
    expect(committed().map((row) => row.status)).toEqual(['interrupted', 'interrupted']);
    expect(committedRow(2)?.args).toContain('xxxx');
    expect(journalFiles()).toHaveLength(1); // the new log's own
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 2, chain: 'sha256' });
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
      error: INTERRUPTED,
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

  it('turns the starts a killed gateway journaled but never committed into interrupted rows, chained after the rest', async () => {
    holdCommits();
    const log = auditLog();
    log.refused(CALL, { status: 'denied' });
    log.flush();
    const upstream: AuditStart = {
      agent: 'ci',
      transport: 'http',
      origin: 'upstream',
      method: 'sampling/createMessage',
      server: 'files',
    };
    const first = clock;
    leaveJournal(await killedGatewayJournal([CALL, upstream], 1_000));

    expect(log.recoverInterrupted()).toBe(2);

    const [, a, b] = committed();
    expect(committedRow(a!.id)).toMatchObject({
      ...CALL_ROW,
      ts: new Date(first + 1_000).toISOString(),
      ts_ms: first + 1_000,
      status: 'interrupted',
      error: INTERRUPTED,
      latency_ms: null,
      owner: null,
      chain_seq: 2,
    });
    expect(committedRow(b!.id)).toMatchObject({
      ts_ms: first + 2_000,
      agent: 'ci',
      session: null,
      client: null,
      transport: 'http',
      origin: 'upstream',
      method: 'sampling/createMessage',
      server: 'files',
      name: null,
      exposed_name: null,
      decision: null,
      args: null,
      args_hash: null,
      request_bytes: null,
      status: 'interrupted',
      owner: null,
      chain_seq: 3,
    });
    expectLinkedChain();
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 3, chain: 'sha256' });
    expect(journalFiles()).toEqual([onlyJournal().name]); // the dead one is gone, this log's is left
    expect(meta(`journal:${LEFT_JOURNAL}`)).toBe('2');
  });

  it('recovers only the starts after the last one a commit covered (killed between its commit and cutting the file)', async () => {
    holdCommits();
    const log = auditLog();
    const starts = Array.from({ length: 5 }, (_, i) => ({ ...CALL, args: { i } }));
    leaveJournal(await killedGatewayJournal(starts));
    // What the commit of the first three left: their pending rows and its mark.
    for (let i = 0; i < 3; i++) insertPending(EXITED_OWNER, T0);
    db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?)').run(`journal:${LEFT_JOURNAL}`, '3');

    expect(log.recoverInterrupted()).toBe(5);

    const rows = committed();
    expect(rows.map((row) => row.status)).toEqual(Array(5).fill('interrupted'));
    expect(rows.slice(3).map((row) => committedRow(row.id)?.args)).toEqual(['{"i":3}', '{"i":4}']);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 5, chain: 'sha256' });
    expect(meta(`journal:${LEFT_JOURNAL}`)).toBe('5');
  });

  it('recovers the entries before a last line cut short', async () => {
    holdCommits();
    const log = auditLog();
    const text = await killedGatewayJournal([1, 2, 3].map((i) => ({ ...CALL, args: { i } })));
    leaveJournal(text.slice(0, -20));

    expect(log.recoverInterrupted()).toBe(2);
    expect(committed().map((row) => committedRow(row.id)?.args)).toEqual(['{"i":1}', '{"i":2}']);
    expect(journalFiles()).toHaveLength(1);
    expect(verifyChain(db, SHA256)).toMatchObject({ ok: true, rows: 2 });
  });

  it('leaves the journals of live processes alone: its own, a live process of this machine, another machine', async () => {
    holdCommits();
    const log = auditLog();
    const own = await log.start(CALL);
    const text = await killedGatewayJournal([CALL]);
    const live = text.replace(EXITED_OWNER, `${hostname()}:${process.ppid}`);
    const remote = text.replace(EXITED_OWNER, `another-host.example:${EXITED_PID}`);
    leaveJournal(live, `${process.ppid}-${T0}-alive1.jsonl`);
    leaveJournal(remote, `${EXITED_PID}-${T0}-remote.jsonl`);
    const before = journalFiles().map((name) => readFileSync(path.join(journalDir, name), 'utf8'));

    expect(log.recoverInterrupted()).toBe(0);

    expect(committed()).toEqual([]);
    expect(journalFiles().map((name) => readFileSync(path.join(journalDir, name), 'utf8'))).toEqual(before);
    log.flush();
    expect(committed()).toMatchObject([{ id: own!.id, status: 'pending' }]);
  });

  it("leaves another log's open journal of this process alone, and recovery does not mark its own starts committed", async () => {
    holdCommits();
    const first = auditLog();
    await first.start(CALL); // journaled, not committed
    const second = auditLog();
    leaveJournal(await killedGatewayJournal([CALL]));
    // Recovering a dead journal commits; that commit must not cover the first log's start.
    expect(first.recoverInterrupted()).toBe(1);
    expect(second.recoverInterrupted()).toBe(0);
    const firstName = journalFiles().find(
      (name) => name !== LEFT_JOURNAL && readFileSync(path.join(journalDir, name), 'utf8').split('\n').length > 2,
    );
    expect(firstName).toBeDefined();
    expect(
      reader.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(`journal:${firstName}`),
    ).toBeUndefined();
    first.flush();
    expect(committed().map((row) => row.status)).toEqual(['interrupted', 'pending']);
  });

  it('writes a journal once: run again, or by a gateway that read it before another removed it', async () => {
    holdCommits();
    const log = auditLog();
    const text = await killedGatewayJournal([CALL, CALL]);
    leaveJournal(text);
    expect(log.recoverInterrupted()).toBe(2);
    expect(log.recoverInterrupted()).toBe(0);

    leaveJournal(text); // what a second gateway starting at the same moment read
    expect(log.recoverInterrupted()).toBe(0);
    expect(committed()).toHaveLength(2);
    expect(journalFiles()).toHaveLength(1);
    expect(verifyChain(db, SHA256)).toMatchObject({ ok: true, rows: 2 });
  });

  it('recovers every call of a gateway process killed (SIGKILL) before its commit', async () => {
    // Journals three starts (the first also committed, the last also ended), says so, then
    // blocks its event loop so that no commit runs before it is killed.
    const gateway = `
      import { writeSync } from 'node:fs';
      import { pathToFileURL } from 'node:url';
      const [dist, file] = process.argv.slice(1);
      const load = (folder) => import(pathToFileURL(dist + '/' + folder + '/index.js').href);
      const [{ AuditLog }, { openDatabase }, { silentLogger }] = await Promise.all(
        ['audit', 'db', 'observability'].map(load),
      );
      const log = new AuditLog(openDatabase(file), {
        maxArgsBytes: 4096, onFailure: 'refuse', key: { kind: 'sha256' }, log: silentLogger,
      });
      const call = { agent: 'ops', transport: 'stdio', method: 'tools/call', exposedName: 'files__read' };
      await log.start({ ...call, args: { i: 1 } });
      log.flush();
      await log.start({ ...call, args: { i: 2 } });
      (await log.start({ ...call, args: { i: 3 } })).end({ status: 'ok' });
      writeSync(1, 'journaled\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', gateway, DIST, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('journaled')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before it journaled:\n${output}`)));
    });
    child.kill('SIGKILL');
    await exited;

    const owner = `${hostname()}:${child.pid}`;
    expect(committed()).toMatchObject([{ status: 'pending', owner }]);
    const { header, starts } = onlyJournal();
    expect(header).toEqual({ owner });
    expect(starts.map((start) => start[0])).toEqual([2, 3]);

    const log = auditLog();
    expect(log.recoverInterrupted()).toBe(3);
    const rows = committed();
    expect(rows.map((row) => [committedRow(row.id)?.args, row.status, row.owner])).toEqual([
      ['{"i":1}', 'interrupted', null],
      ['{"i":2}', 'interrupted', null],
      ['{"i":3}', 'interrupted', null],
    ]);
    expect(verifyChain(db, SHA256)).toEqual({ ok: true, rows: 3, chain: 'sha256' });
    expect(journalFiles()).toHaveLength(1); // this log's own
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
