import { ApprovalQueue, type ApprovalStatus } from '../policy/index.js';
import { openExistingDatabase } from './database.js';
import { table, truncate } from './format.js';
import { status } from './style.js';

interface ApprovalOptions {
  config: string;
  db?: string;
}

function queue(options: ApprovalOptions): { approvals: ApprovalQueue; close(): void } {
  const db = openExistingDatabase(options);
  return { approvals: new ApprovalQueue(db), close: () => db.close() };
}

/** `switchboard approvals`: calls waiting for a person, then recent decisions. */
export function approvalsList(
  options: ApprovalOptions & { status?: ApprovalStatus; limit?: number; format: 'table' | 'json' },
): number {
  const { approvals, close } = queue(options);
  const rows = approvals.list({ status: options.status, limit: options.limit });
  close();
  if (options.format === 'json') {
    process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No approvals.\n');
    return 0;
  }
  process.stdout.write(
    table(
      ['id', 'asked', 'agent', 'tool', 'status', 'by', 'arguments'],
      rows.map((r) => [
        String(r.id),
        r.createdAt,
        r.agent,
        r.tool,
        status(r.status),
        r.decidedBy ?? '',
        truncate(r.args, 60),
      ]),
    ) + '\n',
  );
  return 0;
}

/** `switchboard approvals approve|deny <id>`: exit 1 when the call no longer waits. */
export function approvalsDecide(options: ApprovalOptions & { id: number; decision: 'approved' | 'denied' }): number {
  const { approvals, close } = queue(options);
  try {
    const row = approvals.get(options.id);
    if (!row) {
      process.stderr.write(`no approval ${options.id}\n`);
      return 1;
    }
    if (!approvals.decide(options.id, options.decision, 'cli')) {
      process.stderr.write(`approval ${options.id} is no longer pending (${approvals.get(options.id)?.status})\n`);
      return 1;
    }
    process.stdout.write(`${options.decision} ${row.tool} for ${row.agent} (approval ${options.id})\n`);
    return 0;
  } finally {
    close();
  }
}
