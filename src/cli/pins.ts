import { PinStore, type PinChange } from '../catalog/index.js';
import { openExistingDatabase } from './database.js';
import { GatewayError } from '../errors.js';

interface PinOptions {
  config: string;
  db?: string;
}

function store(options: PinOptions): { pins: PinStore; close(): void } {
  const db = openExistingDatabase(options);
  return { pins: new PinStore(db), close: () => db.close() };
}

/** Field by field: what was approved and what the server sends now. */
function diff(change: PinChange): string {
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(change.approved), ...Object.keys(change.pending)])) {
    const before = JSON.stringify(change.approved[key] ?? null, null, 2);
    const after = JSON.stringify(change.pending[key] ?? null, null, 2);
    if (before === after) continue;
    lines.push(`  ${key}:`);
    for (const line of before.split('\n')) lines.push(`    - ${line}`);
    for (const line of after.split('\n')) lines.push(`    + ${line}`);
  }
  return lines.join('\n');
}

/** `switchboard pins`: tool definitions that changed since they were approved. */
export function pinsList(options: PinOptions & { format: 'text' | 'json' }): number {
  const { pins, close } = store(options);
  const changes = pins.pending();
  close();
  if (options.format === 'json') {
    process.stdout.write(changes.map((c) => JSON.stringify(c)).join('\n') + (changes.length ? '\n' : ''));
    return 0;
  }
  if (changes.length === 0) {
    process.stdout.write('No tool definition changed since it was approved.\n');
    return 0;
  }
  for (const change of changes) {
    process.stdout.write(
      `${change.exposedName} (server ${change.server}, changed ${change.changedAt})\n${diff(change)}\n\n`,
    );
  }
  process.stdout.write(`Approve with: switchboard pins approve <name> (or --all)\n`);
  return 0;
}

export function pinsApprove(options: PinOptions & { name?: string; all: boolean }): number {
  if (!options.name && !options.all) throw new GatewayError('invalid_params', 'name a tool, or pass --all');
  const { pins, close } = store(options);
  const approved = pins.approve(options.all ? 'all' : { exposedName: options.name! });
  close();
  if (approved.length === 0) {
    process.stderr.write(`no pending change${options.name ? ` for ${options.name}` : ''}\n`);
    return 1;
  }
  for (const change of approved) process.stdout.write(`approved ${change.exposedName}\n`);
  return 0;
}
