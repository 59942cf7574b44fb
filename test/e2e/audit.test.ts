import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { gatewayStdio } from '../helpers/gateway.js';
import { BIN, RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll, runCommand } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/** Every call, of every status, lands in the audit log and comes back out of the CLI. */
const dir = tempDir();
const db = path.join(dir, 'audit.db');
type Row = Record<string, unknown>;

const CANARY_KEY = 'canary-key-secret-4f1c';
const CANARY_VALUE = 'sk-canary0123456789abcdefXYZ';
const CANARY_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ';

let config = '';
beforeAll(() => {
  writePolicy(dir, 'default', {
    allow: ['*'],
    deny: ['recorder__add-tool'],
    quotas: { recorder__fail: '1/1h' },
    requireApproval: ['recorder__wait'],
  });
  writePolicy(dir, 'other', { allow: ['recorder__echo', 'switchboard__audit'] });
  config = writeConfig(dir, {
    mcpServers: {
      recorder: { command: 'node', args: [RECORDER], timeoutMs: 400 },
      crashing: { command: 'node', args: [RECORDER], env: { RECORD_FILE: path.join(dir, 'crashing.jsonl') } },
    },
  });
});
afterAll(killAll);

const cli = async (...args: string[]) => {
  const { code, stdout, stderr } = await runCommand(process.execPath, [BIN, 'audit', ...args, '--db', db]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return stdout;
};
const jsonRows = (stdout: string): Row[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);

/** A small RFC 4180 reader, to check that the CSV parses cleanly (quotes, commas, newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  const endRow = () => {
    endCell();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      i++;
    } else if (c === '\n') endRow();
    else cell += c;
  }
  if (cell || row.length) endRow();
  return rows;
}

describe('the audit log', () => {
  let client: TestClient;
  beforeAll(async () => {
    let elicitations = 0;
    client = await connectClient('v1', gatewayStdio(config, ['--db', db]), {
      elicitation: async () =>
        elicitations++ === 0 ? { action: 'decline' } : { action: 'accept', content: { approve: true } },
    });
    await client.callTool('recorder__echo', {
      text: 'hello, "world"\nsecond line',
      apiKey: CANARY_KEY,
      note: `Authorization: Bearer ${CANARY_VALUE}`,
      nested: { password: CANARY_KEY, token: CANARY_JWT },
    });
    await client.callTool('recorder__fail', { text: 'x' }); // error (isError), takes the only quota slot
    await client.callTool('recorder__fail', { text: 'y' }); // quota
    await expect(client.callTool('recorder__add-tool', { name: 'nope' })).rejects.toThrow(); // denied
    await client.callTool('recorder__wait', { ms: 1 }); // approval declined
    await client.callTool('recorder__wait', { ms: 2_000 }); // approved, then timeout (timeoutMs 400)
    const controller = new AbortController();
    const cancelled = client.callTool('crashing__wait', { ms: 10_000 }, { signal: controller.signal });
    await waitFor('the call to reach the upstream', () =>
      readRecords(path.join(dir, 'crashing.jsonl')).some((r) => JSON.stringify(r).includes('"wait"')),
    );
    controller.abort();
    await expect(cancelled).rejects.toThrow();
    await client.callTool('crashing__crash', {}); // the upstream dies mid-call: unavailable
    for (let i = 0; i < 3; i++) await client.callTool('recorder__echo', { text: 'repeat' }); // dupes
    // Rows reach the database in group commits within 10 ms of a call (later on a loaded
    // machine, whose timers run late): wait for all eleven, finished.
    await waitFor('every row committed and finished', () => {
      const raw = new Database(db, { readonly: true });
      try {
        return (raw.prepare("SELECT COUNT(*) FROM audit WHERE status != 'pending'").pluck().get() as number) >= 11;
      } finally {
        raw.close();
      }
    });
  });
  afterAll(async () => client?.close());

  it('has a row for every call, with the right status and fields', async () => {
    const rows = jsonRows(await cli('--format', 'json', '--limit', '50')); // oldest first
    expect(rows.map((r) => [r.exposedName, r.status])).toEqual([
      ['recorder__echo', 'ok'],
      ['recorder__fail', 'error'],
      ['recorder__fail', 'quota'],
      ['recorder__add-tool', 'denied'],
      ['recorder__wait', 'approval_denied'],
      ['recorder__wait', 'timeout'],
      ['crashing__wait', 'cancelled'],
      ['crashing__crash', 'unavailable'],
      ['recorder__echo', 'ok'],
      ['recorder__echo', 'ok'],
      ['recorder__echo', 'ok'],
    ]);
    const [first] = rows;
    expect(first).toMatchObject({
      agent: 'default',
      transport: 'stdio',
      origin: 'agent',
      method: 'tools/call',
      server: 'recorder',
      name: 'echo',
      decision: 'allow: *',
      client: 'test-v1/1.0.0',
    });
    expect(first!.argsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first!.requestBytes).toBeGreaterThan(50);
    expect(first!.responseBytes).toBeGreaterThan(10);
    expect(first!.latencyMs).toBeGreaterThan(0);
    for (const key of [
      'id',
      'ts',
      'session',
      'error',
      'args',
      'model',
      'provider',
      'attempts',
      'inputTokens',
      'outputTokens',
      'costUsd',
    ]) {
      expect(first).toHaveProperty(key);
    }
    expect(rows.find((r) => r.status === 'denied')!.decision).toBe('deny: recorder__add-tool');
    expect(rows.find((r) => r.status === 'quota')!.error).toMatch(/retry in/);
    expect(rows.find((r) => r.status === 'timeout')!.error).toMatch(/did not answer within 400 ms/);
    expect(rows.find((r) => r.status === 'unavailable')!.error).toMatch(/crashing/);
  });

  it('filters by agent, tool glob, status and time', async () => {
    expect(jsonRows(await cli('--format', 'json', '--status', 'quota'))).toHaveLength(1);
    expect(
      jsonRows(await cli('--format', 'json', '--tool', 'recorder__w*'))
        .map((r) => r.status)
        .sort(),
    ).toEqual(['approval_denied', 'timeout']);
    expect(jsonRows(await cli('--format', 'json', '--agent', 'other'))).toEqual([]);
    expect(jsonRows(await cli('--format', 'json', '--since', '1h')).length).toBeGreaterThanOrEqual(10);
    expect(jsonRows(await cli('--format', 'json', '--until', '1h'))).toEqual([]);
    expect(jsonRows(await cli('--format', 'json', '--since', new Date(Date.now() + 60_000).toISOString()))).toEqual([]);
  });

  it('writes CSV that parses cleanly, quotes and newlines included', async () => {
    const table = parseCsv(await cli('--format', 'csv'));
    const [header, ...rows] = table;
    expect(header).toContain('exposedName');
    expect(rows.every((r) => r.length === header!.length)).toBe(true);
    const args = header!.indexOf('args');
    expect(rows.some((r) => r[args]!.includes('hello, \\"world\\"\\nsecond line'))).toBe(true);
  });

  it('never stores the canary secrets, by key or by value', () => {
    // The database, its WAL, and the audit journal's files (call starts before their commit).
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.startsWith('audit.db') && statSync(path.join(dir, f)).isFile(),
    );
    for (const file of files) {
      const bytes = readFileSync(path.join(dir, file)).toString('latin1');
      for (const canary of [CANARY_KEY, CANARY_VALUE, CANARY_JWT]) expect(bytes, file).not.toContain(canary);
    }
    const row = jsonRows(
      execFileSync(process.execPath, [BIN, 'audit', '--db', db, '--format', 'json', '--limit', '100'], {
        encoding: 'utf8',
      }),
    ).find((r) => String(r.args).includes('apiKey'))!;
    expect(JSON.parse(String(row.args))).toMatchObject({
      apiKey: '[REDACTED]',
      note: 'Authorization: [REDACTED]',
      nested: { password: '[REDACTED]', token: '[REDACTED]' },
    });
  });

  it('computes stats that agree with the raw rows', async () => {
    const raw = new Database(db, { readonly: true });
    const latencies = (
      raw
        .prepare(`SELECT latency_ms FROM audit WHERE exposed_name = 'recorder__echo' AND status != 'pending'`)
        .pluck()
        .all() as number[]
    ).sort((a, b) => a - b);
    raw.close();
    const rank = (p: number) => latencies[Math.ceil((p / 100) * latencies.length) - 1];
    const stats = jsonRows(await cli('stats', '--by', 'tool', '--format', 'json'));
    const echo = stats.find((s) => s.key === 'recorder__echo')!;
    expect(echo.count).toBe(latencies.length);
    expect(echo.p50Ms).toBe(rank(50));
    expect(echo.p95Ms).toBe(rank(95));
    const byStatus = jsonRows(await cli('stats', '--by', 'status', '--format', 'json'));
    expect(byStatus.find((s) => s.key === 'quota')).toMatchObject({ count: 1, errors: 1, errorRate: 1 });
  });

  it('finds the planted repeats with dupes', async () => {
    const groups = jsonRows(await cli('dupes', '--format', 'json'));
    expect(groups).toEqual([expect.objectContaining({ agent: 'default', tool: 'recorder__echo', count: 3 })]);
  });

  it('serves the same query API as the switchboard__audit tool, own rows only', async () => {
    const other = await connectClient('v1', gatewayStdio(config, ['--db', db, '--agent', 'other']));
    await other.callTool('recorder__echo', { text: 'from other' });
    const result = await other.callTool('switchboard__audit', { limit: 10 });
    const rows = (result.structuredContent as { rows: Row[] }).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.agent === 'other')).toBe(true);
    await expect(other.callTool('switchboard__audit', { agent: 'default' })).rejects.toThrow(
      /agent "other" may read only its own audit rows/,
    );
    await other.close();
  });

  it('verifies an intact chain, then names a changed row and a deleted row', async () => {
    expect(await cli('verify')).toMatch(/^ok: \d+ rows, hash chain intact/);
    const copy = path.join(tempDir(), 'copy.db');
    execFileSync('sqlite3', [db, `.backup '${copy}'`]);
    const target = execFileSync(
      'sqlite3',
      [copy, "SELECT id FROM audit WHERE exposed_name = 'recorder__fail' ORDER BY id LIMIT 1"],
      { encoding: 'utf8' },
    ).trim();
    // One byte of one row: "failed: x" becomes "failed: y".
    execFileSync('sqlite3', [copy, `UPDATE audit SET error = replace(error, 'x', 'y') WHERE id = ${target}`]);
    let verdict = await runCommand(process.execPath, [BIN, 'audit', 'verify', '--db', copy]);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toContain(`row ${target} was changed after it was written`);

    const deleted = path.join(tempDir(), 'deleted.db');
    execFileSync('sqlite3', [db, `.backup '${deleted}'`]);
    const ids = execFileSync('sqlite3', [deleted, 'SELECT id FROM audit ORDER BY chain_seq LIMIT 3'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    execFileSync('sqlite3', [deleted, `DELETE FROM audit WHERE id = ${ids[1]}`]);
    verdict = await runCommand(process.execPath, [BIN, 'audit', 'verify', '--db', deleted]);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toContain(`a row was deleted between row ${ids[0]} and row ${ids[2]}`);
  });
});
