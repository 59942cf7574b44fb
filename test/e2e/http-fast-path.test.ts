import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHttp } from '../helpers/gateway.js';
import { EVERYTHING, RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/**
 * The HTTP front door's own path for a 2025-era session's `tools/call`
 * (src/server/http-fast.ts), on the wire: raw POSTs against the fast path and against
 * the SDK's transport (SWITCHBOARD_FAST_PATH=off) get the same answers, status codes,
 * headers and audit rows, including progress, an upstream's question to the client
 * mid-call, cancellation, the quota, and the transport's own refusals.
 */
type Json = Record<string, unknown>;
type Message = Json & { id?: string | number; method?: string; params?: Json; result?: Json; error?: Json };

afterAll(() => killAll());

describe.each([
  ['the HTTP fast path', {}],
  ['the SDK path (SWITCHBOARD_FAST_PATH=off)', { SWITCHBOARD_FAST_PATH: 'off' }],
] as const)('tools/call over HTTP on %s', (_name, env) => {
  const fast = !('SWITCHBOARD_FAST_PATH' in env);
  const dir = tempDir();
  const records = path.join(dir, 'records.jsonl');
  const db = path.join(dir, 'audit.db');
  writePolicy(dir, 'default', { allow: ['*'], quotas: { recorder__fail: '1/1h' } });
  const config = writeConfig(dir, {
    mcpServers: {
      recorder: { command: 'node', args: [RECORDER], env: { RECORD_FILE: records } },
      everything: { command: 'node', args: [EVERYTHING, 'stdio'] },
    },
    gateway: { maxBodyBytes: 64 * 1024 },
  });
  let url = '';
  let output: () => string = () => '';
  let session = '';
  let nextId = 1;

  const headers = (extra: Record<string, string> = {}) => ({
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': '2025-11-25',
    ...(session ? { 'mcp-session-id': session } : {}),
    ...extra,
  });

  /** Reads an SSE body as it arrives, one JSON-RPC message per `message` event. */
  async function* events(response: Response): AsyncGenerator<Message> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (data) yield JSON.parse(data) as Message;
      }
    }
  }

  const post = (body: unknown, extra?: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: headers(extra),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  async function all(response: Response): Promise<Message[]> {
    const out: Message[] = [];
    for await (const message of events(response)) out.push(message);
    return out;
  }

  const callBody = (name: string, args: Json = {}, meta?: Json) => ({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  });

  function auditRow(exposedName: string, status?: string) {
    return waitFor(`a finished audit row for ${exposedName}`, () => {
      const raw = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const rows = raw
          .prepare("SELECT status, error FROM audit WHERE exposed_name = ? AND status != 'pending'")
          .all(exposedName) as { status: string; error: string | null }[];
        return rows.find((row) => status === undefined || row.status === status);
      } finally {
        raw.close();
      }
    });
  }

  beforeAll(async () => {
    const gateway = await startGatewayHttp(config, ['--db', db], { SWITCHBOARD_LOG_LEVEL: 'debug', ...env });
    url = gateway.url;
    output = gateway.output;
    const init = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: { elicitation: { form: {} } },
        clientInfo: { name: 'raw', version: '1' },
      },
    });
    session = init.headers.get('mcp-session-id')!;
    await all(init);
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await waitFor('the upstream tools', async () => {
      const [listed] = await all(await post({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' }));
      const names = ((listed!.result as { tools: { name: string }[] }).tools ?? []).map((t) => t.name);
      return names.includes('recorder__echo') && names.includes('everything__trigger-elicitation-request');
    });
  }, 60_000);

  it('answers on an SSE stream with the session id, as the SDK transport does, and audits the call', async () => {
    const body = callBody('recorder__echo', { text: 'hello' });
    const response = await post(body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('mcp-session-id')).toBe(session);
    expect(await all(response)).toEqual([
      { jsonrpc: '2.0', id: body.id, result: { content: [{ type: 'text', text: 'hello' }] } },
    ]);
    // Which path answered: the fast path says so once in the debug log.
    expect(output().includes('http fast path: taking tools/call')).toBe(fast);
    expect((await auditRow('recorder__echo')).status).toBe('ok');
  });

  it("sends the upstream's progress on the call's stream, before the result", async () => {
    const body = callBody(
      'everything__trigger-long-running-operation',
      { duration: 0.3, steps: 3 },
      { progressToken: 'p1' },
    );
    const messages = await all(await post(body));
    expect(messages.map((m) => m.method ?? 'result')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
      'result',
    ]);
    expect(messages.slice(0, 3).map((m) => [m.params!.progressToken, m.params!.progress])).toEqual([
      ['p1', 1],
      ['p1', 2],
      ['p1', 3],
    ]);
    expect(messages[3]!.id).toBe(body.id);
  });

  it("asks the client the upstream's question on the call's stream, and takes the POSTed answer", async () => {
    const body = callBody('everything__trigger-elicitation-request');
    const stream = events(await post(body));
    const { value: question } = await stream.next();
    expect(question).toMatchObject({ jsonrpc: '2.0', method: 'elicitation/create' });
    expect(question!.id).toBeDefined();
    const answered = await post({
      jsonrpc: '2.0',
      id: question!.id,
      result: { action: 'accept', content: { name: 'Ada Lovelace' } },
    });
    expect(answered.status).toBe(202);
    const { value: result } = await stream.next();
    expect(result!.id).toBe(body.id);
    expect(JSON.stringify(result!.result)).toContain('Ada Lovelace');
    expect((await stream.next()).done).toBe(true);
  });

  it("passes the client's error answer to the upstream's question on, and still answers the call", async () => {
    const body = callBody('everything__trigger-elicitation-request');
    const stream = events(await post(body));
    const { value: question } = await stream.next();
    expect(question).toMatchObject({ method: 'elicitation/create' });
    const answered = await post({
      jsonrpc: '2.0',
      id: question!.id,
      error: { code: -32603, message: 'the user closed the form' },
    });
    expect(answered.status).toBe(202);
    const { value: result } = await stream.next();
    expect(result!.id).toBe(body.id);
    // The upstream saw the error: its tool failed with it (an error, or an isError result).
    expect(JSON.stringify(result!.error ?? result!.result)).toContain('the user closed the form');
    expect(result!.error !== undefined || result!.result?.isError === true).toBe(true);
    expect((await stream.next()).done).toBe(true);
  });

  // Neither path sends a call's response headers before its first message (progress, a
  // question, or the answer), so the POST is not awaited until the call is over.
  it('never answers a call the client cancels, tells the upstream, and audits it', async () => {
    const body = callBody('recorder__wait', { ms: 30_000 });
    const pending = post(body);
    await waitFor('the call upstream', () =>
      readRecords(records).some((r) => ((r.message as Message | undefined)?.params?.arguments as Json)?.ms === 30_000),
    );
    const cancel = await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: body.id } });
    expect(cancel.status).toBe(202);
    await waitFor('the upstream to abort', () => readRecords(records).some((r) => r.event === 'aborted'));
    expect((await auditRow('recorder__wait', 'cancelled')).status).toBe('cancelled');
    // The fast path ends the stream with no message; the SDK's transport leaves it open
    // (it would close it only with an answer, and a cancelled request gets none).
    const outcome = await Promise.race([
      pending.then(all),
      new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 1_000)),
    ]);
    expect(outcome).toEqual(fast ? [] : 'still open');
  });

  it('takes a cancellation sent in a batch (as a 2025-03-26 client may)', async () => {
    const aborted = () => readRecords(records).filter((r) => r.event === 'aborted').length;
    const before = aborted();
    const body = callBody('recorder__wait', { ms: 25_000 });
    void post(body).catch(() => undefined);
    await waitFor('the call upstream', () =>
      readRecords(records).some((r) => ((r.message as Message | undefined)?.params?.arguments as Json)?.ms === 25_000),
    );
    const cancel = await post([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: body.id } }], {
      'mcp-protocol-version': '2025-03-26',
    });
    expect(cancel.status).toBe(202);
    await waitFor('the upstream to abort', () => aborted() > before);
  });

  it('refuses the call over its quota with retryAfterMs', async () => {
    const [first] = await all(await post(callBody('recorder__fail', { text: 'once' })));
    expect(first!.result).toEqual({ content: [{ type: 'text', text: 'failed: once' }], isError: true });
    const [second] = await all(await post(callBody('recorder__fail', { text: 'twice' })));
    expect(second!.result).toMatchObject({
      isError: true,
      _meta: { 'switchboard/retryAfterMs': expect.any(Number) },
    });
  });

  it('refuses what the SDK transport refuses, with its status and error', async () => {
    const call = () => callBody('recorder__echo', { text: 'x' });
    const refusal = async (response: Response) => ({
      status: response.status,
      error: ((await response.json()) as Message).error,
    });
    expect(await refusal(await post(call(), { accept: 'application/json' }))).toMatchObject({
      status: 406,
      error: { code: -32000, message: expect.stringMatching(/^Not Acceptable/) },
    });
    expect(await refusal(await post(call(), { 'content-type': 'text/plain' }))).toMatchObject({
      status: 415,
      error: { code: -32000 },
    });
    expect(await refusal(await post('{"jsonrpc": "2.0", "id": 1,'))).toEqual({
      status: 400,
      error: { code: -32700, message: 'Parse error: the request body is not valid JSON' },
    });
    expect(await refusal(await post(callBody('recorder__echo', { text: 'x'.repeat(70_000) })))).toEqual({
      status: 413,
      error: { code: -32000, message: 'Payload Too Large: Request body must not exceed 65536 bytes' },
    });
    // The same body sent chunked, with no length to refuse it by up front.
    const chunked = new TextEncoder().encode(JSON.stringify(callBody('recorder__echo', { text: 'y'.repeat(70_000) })));
    const streamed = await fetch(url, {
      method: 'POST',
      headers: headers(),
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < chunked.length; at += 16_384) controller.enqueue(chunked.subarray(at, at + 16_384));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(await refusal(streamed)).toEqual({
      status: 413,
      error: { code: -32000, message: 'Payload Too Large: Request body must not exceed 65536 bytes' },
    });
    expect(await refusal(await post(call(), { 'mcp-protocol-version': '1999-01-01' }))).toMatchObject({
      status: 400,
      error: { code: -32000, message: expect.stringMatching(/Unsupported protocol version: 1999-01-01/) },
    });
    expect(await refusal(await post(call(), { 'mcp-session-id': 'no-such-session' }))).toMatchObject({
      status: 404,
      error: { code: -32001 },
    });
    // Not a tools/call this path takes (a malformed one): the SDK answers it, on both.
    const [malformed] = await all(
      await post({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: { name: 'recorder__echo', arguments: [1] },
      }),
    );
    expect(malformed!.error).toMatchObject({ code: -32602 });
  });

  it('cancels the calls of a session that ends (DELETE) mid-call', async () => {
    const before = readRecords(records).filter((r) => r.event === 'aborted').length;
    void post(callBody('recorder__wait', { ms: 20_000 })).catch(() => undefined);
    await waitFor('the call upstream', () =>
      readRecords(records).some((r) => ((r.message as Message | undefined)?.params?.arguments as Json)?.ms === 20_000),
    );
    const ended = await fetch(url, { method: 'DELETE', headers: headers() });
    expect(ended.status).toBe(200);
    await waitFor(
      'the upstream to abort',
      () => readRecords(records).filter((r) => r.event === 'aborted').length > before,
    );
  });
});
