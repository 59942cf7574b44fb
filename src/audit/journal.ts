import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { OWNER } from '../db/index.js';
import { blankOutcome, type AuditRow } from './row.js';

/**
 * The audit log's own write-ahead journal: what makes a call's start durable before it
 * is forwarded, for the price of one `write(2)` instead of one SQLite commit.
 *
 * Each gateway process appends one line per call start to its own file in
 * `<database>.journal/` (a header line names the process). The rows themselves reach
 * SQLite in group commits every few milliseconds; the commit records, in `audit_meta`,
 * the last journal entry it covers, and then the file is cut back to its header. A
 * process that dies leaves its file behind, and the next gateway to start on the same
 * database turns the entries no commit covered into `interrupted` rows (see
 * `AuditLog.recoverInterrupted`). The guarantee is the one SQLite's WAL gives with
 * `synchronous = NORMAL`: a started call survives the process being killed, not the
 * machine losing power.
 */
/** Journals this process has open: never another log's to recover, though their owner is this pid. */
const OPEN = new Set<string>();

export class AuditJournal {
  /** The file's name in the journal folder, unique per process run. */
  readonly name: string;
  /** The `audit_meta` key holding the last entry committed to the database. */
  readonly metaKey: string;
  /** The last entry appended. */
  seq = 0;
  private readonly file: string;
  private readonly headerBytes: number;
  private fd: number | undefined;
  private dirty = false;
  /** The file's length: what a failed write is cut back to. */
  private size = 0;
  /** A write failed part-way: the next entry starts on a new line. */
  private torn = false;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.name = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.jsonl`;
    this.metaKey = `journal:${this.name}`;
    this.file = path.join(dir, this.name);
    const header = JSON.stringify({ owner: OWNER }) + '\n';
    this.headerBytes = Buffer.byteLength(header);
    this.fd = openSync(this.file, 'a'); // O_APPEND: after a cut, writes continue at the new end
    writeAll(this.fd, Buffer.from(header));
    this.size = this.headerBytes;
    OPEN.add(this.name);
  }

  /**
   * Appends call starts, in one write; returns the last one's entry number. Throws when
   * the file cannot be written (then none of them counts as journaled).
   */
  append(rows: readonly AuditRow[]): number {
    if (this.fd === undefined) throw new Error('the audit journal is closed');
    let seq = this.seq;
    let text = this.torn ? '\n' : '';
    for (const row of rows) text += this.line(++seq, row);
    const bytes = Buffer.from(text);
    try {
      writeAll(this.fd, bytes);
    } catch (error) {
      // Lines of a failed write must not be recovered as calls (they were refused): cut
      // them off; if even that fails, the next write starts on a line of its own.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        this.torn = true;
      }
      throw error;
    }
    this.size += bytes.length;
    this.torn = false;
    this.seq = seq;
    this.dirty = true;
    return seq;
  }

  private line(seq: number, row: AuditRow): string {
    return (
      JSON.stringify([
        seq,
        row.ts,
        row.agent,
        row.session,
        row.client,
        row.transport,
        row.origin,
        row.method,
        row.server,
        row.name,
        row.exposedName,
        row.decision,
        row.argsHash,
        row.args,
        row.requestBytes,
      ]) + '\n'
    );
  }

  /** Everything appended is committed to the database: the file goes back to its header. */
  committed(): void {
    if (!this.dirty || this.fd === undefined) return;
    ftruncateSync(this.fd, this.headerBytes);
    this.size = this.headerBytes;
    this.dirty = false;
  }

  /** Closes the file; `remove` deletes it (everything in it was committed). */
  close(remove: boolean): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    OPEN.delete(this.name);
    if (remove) unlinkQuietly(this.file);
  }
}

/** A journal left by another process, read back. */
export interface LeftJournal {
  file: string;
  metaKey: string;
  owner: string | undefined;
  /** Call starts, oldest first, as pending rows without ids. */
  entries: { seq: number; row: AuditRow }[];
}

/** The journals in `dir` other than `except` (this process's own). */
export function leftJournals(dir: string, except: string | undefined): LeftJournal[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: LeftJournal[] = [];
  for (const name of names) {
    if (name === except || OPEN.has(name) || !name.endsWith('.jsonl')) continue;
    const file = path.join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile by the process that recovered it
    }
    found.push({ file, metaKey: `journal:${name}`, ...parseJournal(text) });
  }
  return found;
}

/**
 * Reads a journal's lines. The last line of a killed process may be cut short: lines
 * that do not parse are skipped, the rest is kept.
 */
export function parseJournal(text: string): Pick<LeftJournal, 'owner' | 'entries'> {
  let owner: string | undefined;
  const entries: LeftJournal['entries'] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(value)) {
      const header = value as { owner?: unknown } | null;
      if (typeof header?.owner === 'string') owner = header.owner;
      continue;
    }
    if (value.length !== 15 || typeof value[0] !== 'number' || typeof value[1] !== 'string') continue;
    const [seq, ts, agent, session, client, transport, origin, method, server, name, exposedName, decision] = value;
    const [argsHash, args, requestBytes] = value.slice(12);
    entries.push({
      seq,
      row: {
        id: 0,
        ts,
        agent,
        session,
        client,
        transport,
        origin,
        method,
        server,
        name,
        exposedName,
        status: 'pending',
        decision,
        latencyMs: null,
        argsHash,
        args,
        requestBytes,
        ...blankOutcome(),
      } as AuditRow,
    });
  }
  return { owner, entries };
}

export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone (another process recovered it first)
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
}
