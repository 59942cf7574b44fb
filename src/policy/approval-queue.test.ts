import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { ApprovalQueue } from './approval-queue.js';

let dir: string;
let dbs: Db[];
const open = () => {
  const db = openDatabase(path.join(dir, 'switchboard.db'));
  dbs.push(db);
  return db;
};
const request = {
  agent: 'alice',
  session: 's1',
  transport: 'stdio',
  server: 'files',
  tool: 'files__write_file',
  rule: 'files__write*',
  args: '{"path":"a"}',
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-approvals-'));
  dbs = [];
});
afterEach(() => {
  for (const db of dbs) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ApprovalQueue', () => {
  it('wakes the waiter at once on a decision made in the same process', async () => {
    const queue = new ApprovalQueue(open());
    const id = queue.open(request);
    const waiting = queue.wait(id, new AbortController().signal);
    expect(queue.list({ status: 'pending' }).map((r) => r.id)).toEqual([id]);
    expect(queue.decide(id, 'approved', 'dashboard')).toBe(true);
    await expect(waiting).resolves.toEqual({ status: 'approved', by: 'dashboard' });
    expect(queue.get(id)).toMatchObject({ status: 'approved', decidedBy: 'dashboard', agent: 'alice' });
    expect(queue.decide(id, 'denied', 'cli')).toBe(false); // the first decision stands
  });

  it('sees a decision written by another connection (another process) on its next poll', async () => {
    const gateway = new ApprovalQueue(open());
    const cli = new ApprovalQueue(open());
    const id = gateway.open(request);
    const waiting = gateway.wait(id, new AbortController().signal);
    expect(cli.decide(id, 'denied', 'cli')).toBe(true);
    await expect(waiting).resolves.toEqual({ status: 'denied', by: 'cli' });
  });

  it('rejects with the reason when the wait is aborted, and the row can then be closed', async () => {
    const queue = new ApprovalQueue(open());
    const id = queue.open(request);
    const controller = new AbortController();
    const waiting = queue.wait(id, controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    queue.close(id, 'cancelled', 'gateway');
    expect(queue.get(id)?.status).toBe('cancelled');
    expect(queue.decide(id, 'approved', 'dashboard')).toBe(false);
  });

  it('lists pending calls first (oldest first), then recent decisions', () => {
    const queue = new ApprovalQueue(open());
    const a = queue.open(request);
    const b = queue.open(request);
    const c = queue.open(request);
    queue.decide(a, 'approved', 'cli');
    expect(queue.list().map((r) => [r.id, r.status])).toEqual([
      [b, 'pending'],
      [c, 'pending'],
      [a, 'approved'],
    ]);
  });

  it('expires what a dead gateway left waiting, and leaves a live one alone', () => {
    const db = open();
    const queue = new ApprovalQueue(db);
    const dead = queue.open(request);
    const live = queue.open(request);
    db.prepare('UPDATE approvals SET owner = ? WHERE id = ?').run(`${hostname()}:2147483646`, dead);
    db.prepare('UPDATE approvals SET owner = ? WHERE id = ?').run(`${hostname()}:${process.ppid}`, live);
    expect(queue.expireAbandoned().map((r) => r.id)).toEqual([dead]);
    expect(queue.get(dead)).toMatchObject({ status: 'expired', decidedBy: 'gateway' });
    expect(queue.get(live)?.status).toBe('pending');
  });

  it('refuses to approve a call whose gateway died (it would never run), and does not list it as waiting', () => {
    const db = open();
    const queue = new ApprovalQueue(db);
    const orphan = queue.open(request);
    const mine = queue.open(request);
    db.prepare('UPDATE approvals SET owner = ? WHERE id = ?').run(`${hostname()}:2147483646`, orphan);
    expect(queue.decide(orphan, 'approved', 'dashboard')).toBe(false);
    expect(queue.get(orphan)?.status).toBe('expired');
    expect(queue.list({ status: 'pending' }).map((r) => r.id)).toEqual([mine]); // this process's own row stays
  });
});
