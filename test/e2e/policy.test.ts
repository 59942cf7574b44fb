import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ClientKind } from '../helpers/clients.js';
import { gatewayStdio, startGatewayHttp } from '../helpers/gateway.js';
import { BIN, FILESYSTEM, RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll, runCommand, startProcess } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/** Per-agent policies with real upstreams and real clients: identity, allow/deny, read-only, quotas, approval. */
const dir = tempDir();
const sandbox = path.join(dir, 'sandbox');
mkdirSync(sandbox);
writeFileSync(path.join(sandbox, 'notes.txt'), 'hello from the sandbox');
const recordFile = path.join(dir, 'recorder.jsonl');
const headersFile = path.join(dir, 'http-recorder.jsonl');

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';
const EDITOR = 'editor-token-0123456789abcdef';
const sha256 = (token: string) => `sha256:${createHash('sha256').update(token).digest('hex')}`;

let configFile = '';
let url = '';
let output: () => string = () => '';

beforeAll(async () => {
  const { match } = await startProcess(process.execPath, [RECORDER, '--http', '0'], {
    env: { RECORD_FILE: headersFile },
    ready: /recorder listening on (\d+)/,
  });
  writePolicy(dir, 'alice', { tokens: ['${SWITCHBOARD_TEST_ALICE}'], allow: ['*'], deny: ['recorder__wait'] });
  writePolicy(dir, 'bob', {
    tokens: [sha256(BOB)],
    allow: ['files__*', 'strict__*', 'recorder__echo'],
    readOnly: ['files__*', 'strict__*'],
  });
  writePolicy(dir, 'editor', { tokens: [sha256(EDITOR)], allow: ['recorder__echo', 'remote__echo'] });
  writePolicy(dir, 'counter', { allow: ['recorder__echo'], quotas: { 'recorder__*': '5/1h' } });
  writePolicy(dir, 'approver', { allow: ['recorder__*'], requireApproval: ['recorder__echo'] });
  configFile = writeConfig(dir, {
    mcpServers: {
      files: { command: 'node', args: [FILESYSTEM, './sandbox'] },
      strict: {
        command: 'node',
        args: [FILESYSTEM, './sandbox'],
        trustAnnotations: false,
        readOnlyTools: ['read_text_file'],
      },
      recorder: { command: 'node', args: [RECORDER], env: { RECORD_FILE: recordFile } },
      remote: { type: 'http', url: `http://127.0.0.1:${match[1]}/mcp` },
    },
  });
  process.env.SWITCHBOARD_TEST_ALICE = ALICE;
  const gateway = await startGatewayHttp(configFile, [], {
    SWITCHBOARD_TEST_ALICE: ALICE,
    SWITCHBOARD_LOG_LEVEL: 'info',
  });
  url = gateway.url;
  output = gateway.output;
});
afterAll(killAll);

const asAgent = (token: string) => ({ url, headers: { authorization: `Bearer ${token}` } });
const text = (result: Record<string, unknown>) => JSON.stringify(result.content);
const calls = (name: string) =>
  readRecords(recordFile).filter(
    (r) => (r.message as { method?: string })?.method === 'tools/call' && JSON.stringify(r.message).includes(name),
  );

describe('identity over HTTP', () => {
  it('gives two agents with different tokens different tool lists', async () => {
    const alice = await connectClient('v1', asAgent(ALICE));
    const bob = await connectClient('v1', asAgent(BOB));
    const aliceTools = (await alice.listTools()).map((t) => t.name);
    const bobTools = (await bob.listTools()).map((t) => t.name);
    expect(aliceTools).toContain('files__write_file');
    expect(aliceTools).toContain('recorder__echo');
    expect(aliceTools).not.toContain('recorder__wait');
    expect(bobTools).toContain('files__read_text_file');
    expect(bobTools).not.toContain('files__write_file');
    expect(bobTools).not.toContain('recorder__add-tool');
    await alice.close();
    await bob.close();
  });

  it('answers 401 with WWW-Authenticate for no token and for a wrong token', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(url, { method: 'POST', headers, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="switchboard"');
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer nope-nope-nope' },
      body,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // Who asks is checked before the body is parsed: 401, not a parse error.
    const malformed = await fetch(url, { method: 'POST', headers, body: '{"jsonrpc": "2.0", ' });
    expect(malformed.status).toBe(401);
    await expect(connectClient('v1', { url })).rejects.toThrow();
  });

  it("binds a session to its agent: another agent's token cannot use it", async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const opened = await fetch(url, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${ALICE}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    const session = opened.headers.get('mcp-session-id')!;
    await opened.body?.cancel();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const stolen = await fetch(url, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${BOB}`, 'mcp-session-id': session },
      body: list,
    });
    expect(stolen.status).toBe(404);
    // A tools/call (which the HTTP fast path would take on a ready session) is refused the same way.
    const call = (id: number) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'recorder__echo', arguments: { text: 'mine' } },
      });
    const owned = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    const initialized = await fetch(url, {
      method: 'POST',
      headers: { ...owned, authorization: `Bearer ${ALICE}` },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(initialized.status).toBe(202);
    const stolenCall = await fetch(url, {
      method: 'POST',
      headers: { ...owned, authorization: `Bearer ${BOB}` },
      body: call(3),
    });
    expect(stolenCall.status).toBe(404);
    const before = calls('mine').length;
    const own = await fetch(url, {
      method: 'POST',
      headers: { ...owned, authorization: `Bearer ${ALICE}` },
      body: call(4),
    });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('mine');
    expect(calls('mine').length).toBe(before + 1); // only Alice's call reached the upstream
  });

  it("never passes the client's credentials to an upstream", async () => {
    const editor = await connectClient('v1', asAgent(EDITOR));
    expect(text(await editor.callTool('remote__echo', { text: 'over http' }))).toContain('over http');
    await editor.close();
    const requests = readRecords(headersFile).filter((r) => r.event === 'http');
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const headers = request.headers as Record<string, string>;
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(EDITOR);
    }
  });
});

describe('read-only agents', () => {
  it('may read but not write on server-filesystem, and nothing is written', async () => {
    const bob = await connectClient('v1', asAgent(BOB));
    expect(text(await bob.callTool('files__read_text_file', { path: path.join(sandbox, 'notes.txt') }))).toContain(
      'hello from the sandbox',
    );
    const target = path.join(sandbox, 'written-by-bob.txt');
    await expect(bob.callTool('files__write_file', { path: target, content: 'x' })).rejects.toThrow(
      /not available to agent "bob" \(readOnly: files__\* \(the tool is not read-only\)\)/,
    );
    expect(existsSync(target)).toBe(false);
    await bob.close();
  });

  it('with trustAnnotations: false, only readOnlyTools count as read', async () => {
    const bob = await connectClient('v1', asAgent(BOB));
    const names = (await bob.listTools()).map((t) => t.name);
    expect(names).toContain('strict__read_text_file');
    // Annotated read-only upstream, but the annotation is not trusted here.
    expect(names).not.toContain('strict__list_directory');
    expect(text(await bob.callTool('strict__read_text_file', { path: path.join(sandbox, 'notes.txt') }))).toContain(
      'hello',
    );
    await expect(bob.callTool('strict__list_directory', { path: sandbox })).rejects.toThrow(/readOnly: strict__\*/);
    const target = path.join(sandbox, 'strict.txt');
    await expect(bob.callTool('strict__write_file', { path: target, content: 'x' })).rejects.toThrow(/readOnly/);
    expect(existsSync(target)).toBe(false);
    await bob.close();
  });
});

describe('deny beats allow', () => {
  it('refuses a denied tool, names the rule, and the upstream never sees the call', async () => {
    const alice = await connectClient('v1', asAgent(ALICE));
    const before = calls('"wait"').length;
    await expect(alice.callTool('recorder__wait', { ms: 1 })).rejects.toThrow(
      /tool recorder__wait is not available to agent "alice" \(deny: recorder__wait\)/,
    );
    expect(await alice.callTool('recorder__echo', { text: 'fine' })).toEqual({
      content: [{ type: 'text', text: 'fine' }],
    });
    expect(calls('"wait"').length).toBe(before);
    await alice.close();
  });

  it('answers a hidden tool and a missing one alike', async () => {
    const bob = await connectClient('v1', asAgent(BOB));
    await expect(bob.callTool('recorder__add-tool', { name: 'x' })).rejects.toThrow(/no allow rule matches/);
    await expect(bob.callTool('nothing__here', {})).rejects.toThrow(/no allow rule matches/);
    await bob.close();
  });
});

describe('quotas', () => {
  const dbDir = tempDir();
  const db = path.join(dbDir, 'shared.db');
  const gateway = () => gatewayStdio(configFile, ['--agent', 'counter', '--db', db]);

  it('admit exactly 5 of 20 concurrent calls across two gateway processes sharing one database', async () => {
    const [one, two] = await Promise.all([connectClient('v1', gateway()), connectClient('v1', gateway())]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).callTool('recorder__echo', { text: `q${i}` })),
    );
    const admitted = results.filter((r) => !r.isError);
    const refused = results.filter((r) => r.isError);
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      const message = (r.content as { text: string }[])[0]!.text;
      expect(message).toMatch(/quota "recorder__\*": "5\/1h" for agent "counter" is used up; retry in (59|60) min/);
      expect((r._meta as Record<string, number>)['switchboard/retryAfterMs']).toBeGreaterThan(3_500_000);
    }
    await one.close();
    await two.close();
  });

  it('keeps counting after a restart', async () => {
    const again = await connectClient('v1', gateway());
    const result = await again.callTool('recorder__echo', { text: 'after restart' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/used up; retry in/);
    await again.close();
  });
});

describe.each(['v1', 'v2'] as ClientKind[])('approval with a %s client', (kind) => {
  const approvals = (...args: string[]) => [BIN, 'approvals', ...args, '--config', configFile];
  const approver = (handler?: (params: Record<string, unknown>) => Promise<Record<string, unknown>>) =>
    connectClient(kind, gatewayStdio(configFile, ['--agent', 'approver']), handler ? { elicitation: handler } : {});

  it('runs the call once a person approves, after showing agent, tool and arguments', async () => {
    const asked: Record<string, unknown>[] = [];
    const client = await approver(async (params) => {
      asked.push(params);
      return { action: 'accept', content: { approve: true } };
    });
    const before = calls(`approved-${kind}`).length;
    expect(text(await client.callTool('recorder__echo', { text: `approved-${kind}` }))).toContain(`approved-${kind}`);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toMatch(
      new RegExp(`Agent "approver" wants to call recorder__echo[\\s\\S]*text: approved-${kind}`),
    );
    expect(calls(`approved-${kind}`).length).toBe(before + 1);
    await client.close();
  });

  it('does not run the call when the person declines', async () => {
    const client = await approver(async () => ({ action: 'decline' }));
    const result = await client.callTool('recorder__echo', { text: `declined-${kind}` });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('recorder__echo was not approved (decline)');
    expect(calls(`declined-${kind}`)).toHaveLength(0);
    await client.close();
  });

  it('lets a client that cannot ask wait for a person: `switchboard approvals approve` (another process) runs it', async () => {
    const client = await approver();
    const waiting = client.callTool('recorder__echo', { text: `unasked-${kind}` });
    const pending = await waitFor('the call to wait in the approvals queue', async () => {
      const { stdout } = await runCommand(
        process.execPath,
        approvals('list', '--status', 'pending', '--format', 'json'),
      );
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: number; args: string; agent: string })
        .find((row) => row.args.includes(`unasked-${kind}`));
    });
    expect(pending.agent).toBe('approver');
    expect(calls(`unasked-${kind}`)).toHaveLength(0);
    const approved = await runCommand(process.execPath, approvals('approve', String(pending.id)));
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`approved recorder__echo for approver (approval ${pending.id})`);
    expect(text(await waiting)).toContain(`unasked-${kind}`);
    expect(calls(`unasked-${kind}`)).toHaveLength(1);
    // Deciding again is refused: it no longer waits.
    const again = await runCommand(process.execPath, approvals('deny', String(pending.id)));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is no longer pending (approved)');
    await client.close();
  });

  it('a denial from the CLI refuses the call, naming who decided', async () => {
    const client = await approver();
    const waiting = client.callTool('recorder__echo', { text: `cli-denied-${kind}` });
    const id = await waitFor('the call to wait', async () => {
      const { stdout } = await runCommand(
        process.execPath,
        approvals('list', '--format', 'json', '--status', 'pending'),
      );
      const row = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: number; args: string })
        .find((r) => r.args.includes(`cli-denied-${kind}`));
      return row?.id;
    });
    expect((await runCommand(process.execPath, approvals('deny', String(id)))).code).toBe(0);
    const result = await waiting;
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('recorder__echo was not approved (denied by cli)');
    expect(calls(`cli-denied-${kind}`)).toHaveLength(0);
    await client.close();
  });
});

describe('editing a policy file', () => {
  it('applies to the next call; an invalid edit keeps the last good version and says why', async () => {
    const editor = await connectClient('v1', asAgent(EDITOR));
    const running = (async () => {
      // Calls keep running through the edits: each one is either served or refused by a rule.
      for (let i = 0; i < 30; i++) {
        try {
          await editor.callTool('recorder__echo', { text: `during-${i}` });
        } catch (error) {
          expect(String(error)).toMatch(/not available to agent "editor"/);
        }
      }
    })();
    const file = writePolicy(dir, 'editor', { tokens: [sha256(EDITOR)], allow: ['remote__echo'] });
    await waitFor('the reload', () => /policy reloaded agent=editor/.test(output()));
    await expect(editor.callTool('recorder__echo', { text: 'after' })).rejects.toThrow(/no allow rule matches/);

    writeFileSync(file, '{ "allow": [');
    await waitFor('the invalid edit to be reported', () =>
      /invalid policy: the previous version stays in force agent=editor/.test(output()),
    );
    expect(output()).toMatch(/editor\.json: /);
    expect(text(await editor.callTool('remote__echo', { text: 'still the old one' }))).toContain('still the old one');
    await running;
    await editor.close();
  });
});

describe('switchboard tools --agent', () => {
  it("shows each tool's class and the rule that decided", async () => {
    const { runCommand } = await import('../helpers/processes.js');
    const { stdout, code } = await runCommand(process.execPath, [
      BIN,
      'tools',
      '--config',
      configFile,
      '--agent',
      'bob',
      '--format',
      'json',
    ]);
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.find((r) => r.name === 'files__write_file')).toMatchObject({
      class: 'write',
      allowed: false,
      rule: 'readOnly: files__* (the tool is not read-only)',
    });
    expect(rows.find((r) => r.name === 'files__read_text_file')).toMatchObject({
      class: 'read',
      classReason: 'annotation readOnlyHint',
      allowed: true,
      rule: 'allow: files__*',
    });
    expect(rows.find((r) => r.name === 'strict__read_text_file')).toMatchObject({
      class: 'read',
      classReason: 'readOnlyTools: read_text_file',
    });
  });
});
