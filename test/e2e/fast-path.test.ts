import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { readRecords, waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire.js';

/**
 * The stdio front door's own path for `tools/call` (src/server/fast-call.ts) and the
 * upstream's direct requests (src/upstream/direct.ts), seen on the wire: the same cases
 * against the fast path and against the SDK path give the same answers and audit rows
 * (policy, quota, the per-agent limit, cancellation, errors), and what the fast path does
 * not handle still reaches the SDK server.
 */
/** One gateway per path: the fast path (default) and the SDK path (SWITCHBOARD_FAST_PATH=off). */
describe.each([
  ['the stdio fast path', {}],
  ['the SDK path (SWITCHBOARD_FAST_PATH=off)', { SWITCHBOARD_FAST_PATH: 'off' }],
] as const)('tools/call on %s', (_name, env) => {
  const fast = !('SWITCHBOARD_FAST_PATH' in env);
  const dir = tempDir();
  const records = path.join(dir, 'records.jsonl');
  const slowRecords = path.join(dir, 'slow-records.jsonl');
  const db = path.join(dir, 'audit.db');
  writePolicy(dir, 'default', {
    allow: ['*'],
    quotas: { recorder__fail: '1/1h' },
    requireApproval: ['recorder__add-tool'],
  });
  const config = writeConfig(dir, {
    mcpServers: {
      recorder: { command: 'node', args: [RECORDER], env: { RECORD_FILE: records } },
      slow: { command: 'node', args: [RECORDER], env: { RECORD_FILE: slowRecords }, timeoutMs: 300 },
    },
    gateway: { approvalTimeoutMs: 300, maxConcurrentCallsPerAgent: 1 },
  });
  let wire: WireClient;
  let stderr = '';
  let nextId = 100;

  type Row = { status: string; error: string | null; args: string | null; exposed_name: string };

  function auditRow(exposedName: string, status?: string): Promise<Row> {
    return waitFor(`a finished audit row for ${exposedName}`, () => {
      const raw = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const rows = raw
          .prepare("SELECT status, error, args, exposed_name FROM audit WHERE exposed_name = ? AND status != 'pending'")
          .all(exposedName) as Row[];
        return rows.find((row) => status === undefined || row.status === status);
      } finally {
        raw.close();
      }
    });
  }

  function call(name: string, args: unknown = {}) {
    const id = nextId++;
    wire.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    return id;
  }

  beforeAll(async () => {
    wire = WireClient.start(process.execPath, [BIN, 'serve', '--config', config, '--db', db], {
      SWITCHBOARD_LOG_LEVEL: 'debug',
      ...env,
    });
    wire.child.stderr.setEncoding('utf8');
    wire.child.stderr.on('data', (chunk: string) => (stderr += chunk));
    await wire.initialize();
    // Wait for the upstream's tools (the gateway may answer before it is connected).
    await waitFor('the recorder tools', async () => {
      const id = 1_000 + nextId++;
      wire.send({ jsonrpc: '2.0', id, method: 'tools/list' });
      const listed = await wire.response(id);
      const names = (listed.result as { tools: { name: string }[] }).tools.map((t) => t.name);
      return names.includes('recorder__echo') && names.includes('slow__wait');
    });
  });
  afterAll(() => wire.close());

  it("answers with the upstream's result, sent upstream under the gateway's own id, and audits it", async () => {
    const id = call('recorder__echo', { text: 'hello', token: 'sk-secret-value-123456' });
    expect(await wire.response(id)).toEqual({
      jsonrpc: '2.0',
      id,
      result: { content: [{ type: 'text', text: 'hello' }] },
    });
    // Which path answered: the fast path says so once in the debug log.
    expect(stderr.includes('stdio fast path: taking tools/call')).toBe(fast);
    const sent = readRecords(records)
      .map((r) => r.message as { id?: unknown; method?: string; params?: { name?: string } } | undefined)
      .find((m) => m?.method === 'tools/call' && m.params?.name === 'echo');
    // The direct upstream path's ids are strings; the SDK client's are numbers (the switch
    // turns both shortcuts off).
    if (fast) expect(sent?.id).toMatch(/^sb\d+-\d+$/);
    else expect(sent?.id).toEqual(expect.any(Number));
    const row = await auditRow('recorder__echo');
    expect(row.status).toBe('ok');
    expect(JSON.parse(row.args!)).toEqual({ text: 'hello', token: '[REDACTED]' });
  });

  it("relays the upstream's isError result, then refuses the call over its quota with retryAfterMs", async () => {
    const first = await wire.response(call('recorder__fail', { text: 'once' }));
    expect(first.result).toEqual({ content: [{ type: 'text', text: 'failed: once' }], isError: true });
    const second = await wire.response(call('recorder__fail', { text: 'twice' }));
    expect(second.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringMatching(/quota "recorder__fail": "1\/1h" .* is used up/) }],
      _meta: { 'switchboard/retryAfterMs': expect.any(Number) },
    });
    expect((await auditRow('recorder__fail', 'error')).error).toBe('failed: once');
    expect((await auditRow('recorder__fail', 'quota')).error).toMatch(/is used up/);
  });

  it('refuses a call over the per-agent limit of calls in flight, audited', async () => {
    const waiting = call('recorder__wait', { ms: 400 });
    await waitFor('the call upstream', () =>
      readRecords(records).some((r) => (r.message as { params?: { name?: string } })?.params?.name === 'wait'),
    );
    const refused = await wire.response(call('recorder__echo', { text: 'second' }));
    expect(refused.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringMatching(/already has 1 calls in flight/) }],
    });
    expect((await wire.response(waiting)).result).toEqual({ content: [{ type: 'text', text: 'waited' }] });
    expect((await auditRow('recorder__echo', 'quota')).error).toMatch(/maxConcurrentCallsPerAgent/);
  });

  it('does not answer a cancelled call, tells the upstream, and audits it cancelled', async () => {
    const id = call('recorder__wait', { ms: 30_000 });
    await waitFor('the call upstream', () =>
      readRecords(records).some(
        (r) => (r.message as { params?: { arguments?: { ms?: number } } })?.params?.arguments?.ms === 30_000,
      ),
    );
    wire.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'user' } });
    await waitFor('the upstream to abort', () => readRecords(records).some((r) => r.event === 'aborted'));
    expect((await auditRow('recorder__wait', 'cancelled')).status).toBe('cancelled');
    // The next call is answered; the cancelled one never is.
    await waitFor('the slot to be free', async () => {
      const next = await wire.response(call('recorder__echo', { text: 'after' }));
      return !(next.result as { isError?: boolean }).isError;
    });
    expect(wire.received.some((m) => m.id === id)).toBe(false);
  });

  it('answers a call its upstream does not answer in time with a timeout error, tells the upstream, and audits it', async () => {
    const id = call('slow__wait', { ms: 5_000 });
    const answer = await wire.response(id);
    expect(JSON.stringify(answer)).toContain('upstream \\"slow\\" did not answer within 300 ms');
    expect((await auditRow('slow__wait', 'timeout')).error).toMatch(/did not answer within 300 ms/);
    await waitFor('the upstream to be told', () => readRecords(slowRecords).some((r) => r.event === 'aborted'));
  });

  it('answers malformed params, unknown tools and calls needing approval as the SDK path does', async () => {
    for (const args of [[1, 2], null, 'text']) {
      const malformed = await wire.response(call('recorder__echo', args));
      expect(malformed.error).toMatchObject({ code: -32602 });
    }
    const unknown = await wire.response(call('recorder__nope'));
    expect(unknown.error).toMatchObject({
      code: -32602,
      message: expect.stringMatching(/Unknown tool: recorder__nope/),
    });
    // Approval: this client cannot be asked (no elicitation), nobody approves it in the queue.
    const approval = await wire.response(call('recorder__add-tool', { name: 'x' }));
    expect(approval.result).toMatchObject({ isError: true });
    expect((await auditRow('recorder__add-tool')).status).toBe('approval_denied');
  });

  it('answers a call whose upstream dies mid-call with an error naming it, audited', async () => {
    const answer = await wire.response(call('recorder__crash'));
    expect(answer.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: expect.stringMatching(/upstream "recorder"/) }],
    });
    expect((await auditRow('recorder__crash')).status).toMatch(/^(unavailable|error)$/);
  });
});
