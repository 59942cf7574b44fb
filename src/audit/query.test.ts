import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { silentLogger } from '../observability/index.js';
import { auditDupes, auditStats, parseTime, percentile, queryAudit, type AuditFilter } from './query.js';
import { AuditLog, type AuditOutcome, type AuditStart } from './writer.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

let dir: string;
let db: Db;
let log: AuditLog;
let clock: number;

/** Writes one finished row at `at`, as the gateway would. */
function add(at: number, start: Partial<AuditStart>, outcome: Partial<AuditOutcome> = {}, latencyMs = 0): void {
  clock = at;
  log.record(
    { agent: 'ops', transport: 'stdio', method: 'tools/call', args: {}, ...start },
    { status: 'ok', ...outcome },
    latencyMs,
  );
  log.flush();
}

function tool(exposedName: string): Partial<AuditStart> {
  const [server, name] = exposedName.split('__');
  return { server: server ?? null, name: name ?? null, exposedName };
}

function ids(filter: AuditFilter): number[] {
  return queryAudit(db, filter).map((row) => row.id);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-audit-query-'));
  db = openDatabase(path.join(dir, 'switchboard.db'));
  clock = T0;
  log = new AuditLog(db, {
    maxArgsBytes: 4096,
    onFailure: 'refuse',
    key: { kind: 'sha256' },
    log: silentLogger,
    now: () => clock,
  });
});

afterEach(() => {
  log.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queryAudit', () => {
  beforeEach(() => {
    add(T0 - 3 * HOUR, { ...tool('files__read'), agent: 'ops' }); // 1
    add(T0 - 2 * HOUR, { ...tool('files__write'), agent: 'dev' }, { status: 'denied' }); // 2
    add(T0 - HOUR, { ...tool('git__log'), agent: 'ops' }, { status: 'error', error: 'boom' }); // 3
    add(T0 - 30 * MINUTE, { ...tool('files__read'), agent: 'dev' }); // 4
    add(T0, { ...tool('files__reads'), agent: 'ops' }); // 5
  });

  it('returns every row, newest first', () => {
    expect(ids({})).toEqual([5, 4, 3, 2, 1]);
  });

  it('returns the fields as written', () => {
    const [row] = queryAudit(db, { status: 'error' });
    expect(row).toMatchObject({
      id: 3,
      ts: '2025-03-01T11:00:00.000Z',
      agent: 'ops',
      server: 'git',
      name: 'log',
      exposedName: 'git__log',
      status: 'error',
      error: 'boom',
      origin: 'agent',
    });
  });

  it('filters by agent, server and status', () => {
    expect(ids({ agent: 'dev' })).toEqual([4, 2]);
    expect(ids({ server: 'git' })).toEqual([3]);
    expect(ids({ status: 'denied' })).toEqual([2]);
    expect(ids({ agent: 'ops', server: 'files' })).toEqual([5, 1]);
    expect(ids({ agent: 'nobody' })).toEqual([]);
  });

  it('matches a tool name exactly when it has no wildcard', () => {
    expect(ids({ tool: 'files__read' })).toEqual([4, 1]);
    expect(ids({ tool: 'files__rea' })).toEqual([]);
  });

  it('matches a tool glob', () => {
    expect(ids({ tool: 'files__*' })).toEqual([5, 4, 2, 1]);
    expect(ids({ tool: 'files__rea?' })).toEqual([4, 1]);
    expect(ids({ tool: '*__log' })).toEqual([3]);
    expect(ids({ tool: 'files__*', agent: 'dev' })).toEqual([4, 2]);
  });

  it('filters by time, both ends included', () => {
    expect(ids({ since: T0 - HOUR })).toEqual([5, 4, 3]);
    expect(ids({ until: T0 - HOUR })).toEqual([3, 2, 1]);
    expect(ids({ since: T0 - 2 * HOUR, until: T0 - 30 * MINUTE })).toEqual([4, 3, 2]);
    expect(ids({ since: T0 + 1 })).toEqual([]);
  });

  it('returns at most `limit` rows, the newest', () => {
    expect(ids({ limit: 2 })).toEqual([5, 4]);
    expect(ids({ tool: 'files__*', limit: 3 })).toEqual([5, 4, 2]);
  });

  it('returns at most 100 rows by default', () => {
    for (let i = 0; i < 110; i++) add(T0, tool('files__read'));
    const rows = queryAudit(db, {});
    expect(rows).toHaveLength(100);
    expect(rows[0]!.id).toBe(115);
  });

  it('follows new rows oldest first after a given id', () => {
    expect(ids({ afterId: 2 })).toEqual([3, 4, 5]);
    expect(ids({ afterId: 2, limit: 2 })).toEqual([3, 4]);
    expect(ids({ afterId: 5 })).toEqual([]);
  });
});

describe('parseTime', () => {
  const NOW = T0;

  it('reads a duration back from now', () => {
    expect(parseTime('45s', NOW)).toBe(NOW - 45 * SECOND);
    expect(parseTime('30m', NOW)).toBe(NOW - 30 * MINUTE);
    expect(parseTime('1h', NOW)).toBe(NOW - HOUR);
    expect(parseTime('2d', NOW)).toBe(NOW - 2 * DAY);
    expect(parseTime('1w', NOW)).toBe(NOW - 7 * DAY);
    expect(parseTime('1.5h', NOW)).toBe(NOW - 1.5 * HOUR);
    expect(parseTime(' 2d ', NOW)).toBe(NOW - 2 * DAY);
  });

  it('reads an ISO time', () => {
    expect(parseTime('2025-02-28T10:00:00Z', NOW)).toBe(Date.parse('2025-02-28T10:00:00Z'));
    expect(parseTime('2025-02-28T10:00:00.000+02:00', NOW)).toBe(Date.parse('2025-02-28T08:00:00Z'));
  });

  it('returns undefined for text that is neither', () => {
    for (const text of ['garbage', '', '10x', '1d2h', 'yesterday', '-2d']) {
      expect(parseTime(text, NOW), text).toBeUndefined();
    }
  });

  // Fixed bug: a bare number falls through to Date.parse, which V8 reads as a year or month, so
  // `switchboard audit --since 90` (a forgotten unit) silently means "since 1990".
  // input:    parseTime('90'), parseTime('5')
  // expected: undefined (the CLI then says "expected 30m, 1h, 2d or an ISO time")
  // actual:   631152000000 (1990-01-01) and 988675200000 (2001-05-01), in local time
  it('rejects a bare number without a unit', () => {
    expect(parseTime('90', NOW)).toBeUndefined();
    expect(parseTime('5', NOW)).toBeUndefined();
  });
});

describe('percentile', () => {
  const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('takes the nearest rank', () => {
    expect(percentile(oneToTen, 50)).toBe(5);
    expect(percentile(oneToTen, 95)).toBe(10);
    expect(percentile(oneToTen, 90)).toBe(9);
    expect(percentile(oneToTen, 91)).toBe(10);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 95)).toBe(40);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(19);
  });

  it('handles the edges', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile(oneToTen, 0)).toBe(1);
    expect(percentile(oneToTen, 100)).toBe(10);
  });
});

describe('auditStats', () => {
  beforeEach(async () => {
    const read = tool('files__read');
    add(T0, read, { model: 'm1', inputTokens: 100, outputTokens: 10, costUsd: 0.1 }, 10);
    add(T0, read, { model: 'm1', inputTokens: 200, outputTokens: 20, costUsd: 0.2 }, 40);
    add(T0, read, { status: 'error', error: 'boom' }, 30);
    add(T0, read, {}, 20);
    clock = T0;
    log.refused({ agent: 'dev', transport: 'stdio', method: 'tools/call', ...tool('git__log') }, { status: 'denied' });
    log.flush();
    // A call still in flight is not counted anywhere.
    await log.start({ agent: 'ops', transport: 'stdio', method: 'tools/call', ...tool('files__read') });
  });

  it('groups by tool: count, errors, error rate, p50/p95, tokens and cost', () => {
    expect(auditStats(db, 'tool')).toEqual([
      {
        key: 'files__read',
        count: 4,
        errors: 1,
        errorRate: 0.25,
        p50Ms: 20,
        p95Ms: 40,
        inputTokens: 300,
        outputTokens: 30,
        costUsd: 0.3,
      },
      {
        key: 'git__log',
        count: 1,
        errors: 1,
        errorRate: 1,
        p50Ms: 0,
        p95Ms: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
      },
    ]);
  });

  it('groups by status, leaving pending rows out', () => {
    const rows = auditStats(db, 'status');
    expect(rows.map((row) => [row.key, row.count, row.errors])).toEqual([
      ['ok', 3, 0],
      ['denied', 1, 1],
      ['error', 1, 1],
    ]);
  });

  it('puts rows without a value under "(none)"', () => {
    expect(auditStats(db, 'model').map((row) => [row.key, row.count])).toEqual([
      ['(none)', 3],
      ['m1', 2],
    ]);
  });

  it('applies the filter, a tool glob included', () => {
    expect(auditStats(db, 'agent', { tool: 'git__*' })).toMatchObject([{ key: 'dev', count: 1 }]);
    expect(auditStats(db, 'tool', { agent: 'ops', status: 'ok' })).toMatchObject([
      { key: 'files__read', count: 3, errors: 0, errorRate: 0, p50Ms: 20, p95Ms: 40 },
    ]);
    expect(auditStats(db, 'tool', { since: T0 + 1 })).toEqual([]);
  });
});

describe('auditDupes', () => {
  const WINDOW = 10 * SECOND;
  const read = { ...tool('files__read'), args: { path: '/tmp/a' } };

  it('groups identical calls within the window; a repeat long after does not join', () => {
    add(T0, read); // 1
    add(T0 + 4 * SECOND, read); // 2
    add(T0 + 8 * SECOND, read); // 3
    add(T0 + 38 * SECOND, read); // 4: 30 s after the third
    expect(auditDupes(db, WINDOW)).toEqual([
      {
        agent: 'ops',
        tool: 'files__read',
        argsHash: queryAudit(db, { limit: 1 })[0]!.argsHash,
        count: 3,
        firstId: 1,
        lastId: 3,
        first: '2025-03-01T12:00:00.000Z',
        last: '2025-03-01T12:00:08.000Z',
      },
    ]);
  });

  it('does not group calls with different arguments, agents or tools', () => {
    add(T0, read);
    add(T0 + SECOND, { ...read, args: { path: '/tmp/b' } });
    add(T0 + 2 * SECOND, { ...read, agent: 'dev' });
    add(T0 + 3 * SECOND, { ...read, ...tool('files__stat') });
    expect(auditDupes(db, WINDOW)).toEqual([]);
  });

  it('groups arguments that differ only in key order', () => {
    add(T0, { ...read, args: { a: 1, b: 2 } });
    add(T0 + SECOND, { ...read, args: { b: 2, a: 1 } });
    expect(auditDupes(db, WINDOW)).toMatchObject([{ count: 2, firstId: 1, lastId: 2 }]);
  });

  it('lists the largest group first', () => {
    const other = { ...read, args: { path: '/tmp/b' } };
    add(T0, other);
    add(T0 + SECOND, other);
    for (let i = 0; i < 3; i++) add(T0 + i * SECOND, read);
    expect(auditDupes(db, WINDOW).map((group) => group.count)).toEqual([3, 2]);
  });

  // Fixed bug: auditDupes applies the exact-name part of the filter but ignores a tool glob
  // (queryAudit and auditStats apply it), so `switchboard audit dupes --tool 'git__*'`
  // lists repeats of every tool.
  // input:    three identical files__read calls within 10 s; auditDupes(db, 10_000, { tool: 'git__*' })
  // expected: []
  // actual:   [{ tool: 'files__read', count: 3, … }]
  it('applies a tool glob filter', () => {
    for (let i = 0; i < 3; i++) add(T0 + i * SECOND, read);
    expect(auditDupes(db, WINDOW, { tool: 'git__*' })).toEqual([]);
  });
});
