import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll, stop } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/**
 * SIGKILL the gateway while 16 clients call a real upstream that records what it
 * receives, five times over: every call the upstream received has an audit row, the
 * rows in flight are `interrupted` after a restart, and the database is intact.
 */
const dir = tempDir();
const db = path.join(dir, 'crash.db');
const records = path.join(dir, 'received.jsonl');
const config = writeConfig(dir, {
  mcpServers: { recorder: { command: 'node', args: [RECORDER], env: { RECORD_FILE: records } } },
});
afterAll(killAll);

const receivedTags = () =>
  readRecords(records)
    .map((r) => r.message as { method?: string; params?: { arguments?: { tag?: string } } } | undefined)
    .filter((m) => m?.method === 'tools/call')
    .map((m) => m!.params!.arguments!.tag!);

describe('a gateway killed mid-call', () => {
  it('loses no audit row, five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const gateway = await startGatewayHttp(config, ['--db', db]);
      const clients: TestClient[] = await Promise.all(
        Array.from({ length: 16 }, () => connectClient('v1', { url: gateway.url })),
      );
      let running = true;
      const loops = clients.map(async (client, c) => {
        for (let n = 0; running; n++) {
          try {
            await client.callTool('recorder__wait', { ms: 15, tag: `r${round}-c${c}-n${n}` }, { timeout: 5_000 });
          } catch {
            return;
          }
        }
      });
      const before = receivedTags().length;
      await waitFor('calls to flow', () => receivedTags().length >= before + 64);
      await stop(gateway.child, 'SIGKILL');
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    }
    // The next start marks what the killed processes left unfinished.
    const restarted = await startGatewayHttp(config, ['--db', db]);
    await stop(restarted.child);

    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = raw.prepare('SELECT status, args FROM audit').all() as { status: string; args: string }[];
    raw.close();
    const audited = new Set(rows.map((r) => (JSON.parse(r.args) as { tag: string }).tag));
    const received = receivedTags();
    expect(received.length).toBeGreaterThan(5 * 64);
    const missing = received.filter((tag) => !audited.has(tag));
    expect(missing).toEqual([]);
    expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
    expect(rows.filter((r) => r.status === 'interrupted').length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['ok', 'interrupted']));
  }, 120_000);
});

describe('a gateway killed while a call waits for approval', () => {
  it('audits the call as interrupted when it starts again, and expires the approval', async () => {
    const own = tempDir();
    writePolicy(own, 'default', { allow: ['*'], requireApproval: ['recorder__echo'] });
    const cfg = writeConfig(own, { mcpServers: { recorder: { command: 'node', args: [RECORDER] } } });
    const file = path.join(own, 'approval.db');
    const gateway = await startGatewayHttp(cfg, ['--db', file]);
    const client = await connectClient('v1', { url: gateway.url });
    const waiting = client.callTool('recorder__echo', { text: 'left waiting' }).catch(() => undefined);
    await waitFor('the call to wait for approval', () => {
      const raw = new Database(file, { readonly: true });
      const n = raw.prepare("SELECT COUNT(*) FROM approvals WHERE status = 'pending'").pluck().get() as number;
      raw.close();
      return n === 1;
    });
    await stop(gateway.child, 'SIGKILL');
    await waiting;
    await client.close().catch(() => undefined);
    const restarted = await startGatewayHttp(cfg, ['--db', file]);
    await stop(restarted.child); // at once: the rows written at startup are committed before it serves

    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT exposed_name, status, error, args, transport FROM audit').all();
    const approvals = raw.prepare('SELECT status, decided_by FROM approvals').all();
    raw.close();
    expect(rows).toEqual([
      {
        exposed_name: 'recorder__echo',
        status: 'interrupted',
        error: 'the gateway stopped while the call waited for approval',
        args: '{"text":"left waiting"}',
        transport: 'http',
      },
    ]);
    expect(approvals).toEqual([{ status: 'expired', decided_by: 'gateway' }]);
  });
});
