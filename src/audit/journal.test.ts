import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditJournal, leftJournals, parseJournal } from './journal.js';
import type { AuditRow } from './row.js';

const OWNER_LINE = `{"owner":"${hostname()}:${process.pid}"}\n`;

const ROW = {
  id: 0,
  ts: '2025-03-01T12:00:00.000Z',
  agent: 'ops',
  session: 's1',
  client: 'claude-code',
  transport: 'stdio',
  origin: 'agent',
  method: 'tools/call',
  server: 'files',
  name: 'read',
  exposedName: 'files__read',
  status: 'pending',
  error: null,
  decision: 'allow files__*',
  latencyMs: null,
  argsHash: 'a'.repeat(64),
  args: '{"path":"/tmp/a","token":"[REDACTED]"}',
  requestBytes: 33,
  responseBytes: null,
  result: null,
  model: null,
  provider: null,
  attempts: null,
  inputTokens: null,
  outputTokens: null,
  costUsd: null,
} as AuditRow;

/** A start as `append` writes it: entry number first, then the row's start fields. */
function entryLine(seq: number, row: AuditRow = ROW): string {
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

let dir: string;
let journals: AuditJournal[];

function journal(): AuditJournal {
  const opened = new AuditJournal(path.join(dir, 'switchboard.db.journal'));
  journals.push(opened);
  return opened;
}

function text(opened: AuditJournal): string {
  return readFileSync(path.join(opened.dir, opened.name), 'utf8');
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-audit-journal-'));
  journals = [];
});

afterEach(() => {
  for (const opened of journals) opened.close(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditJournal', () => {
  it('creates its folder and a file of its own, named for this process, holding only its owner', () => {
    const opened = journal();
    expect(readdirSync(opened.dir)).toEqual([opened.name]);
    expect(opened.name).toMatch(new RegExp(`^${process.pid}-\\d+-[0-9a-z]+\\.jsonl$`));
    expect(opened.metaKey).toBe(`journal:${opened.name}`);
    expect(text(opened)).toBe(OWNER_LINE);
  });

  it('gives two journals of the same process different files', () => {
    const [a, b] = [journal(), journal()];
    expect(a.name).not.toBe(b.name);
    expect(readdirSync(a.dir).sort()).toEqual([a.name, b.name].sort());
  });

  it('appends one line per start, numbered from 1, with what is known when the call starts', () => {
    const opened = journal();
    const bare = { ...ROW, agent: 'ci', session: null, args: null, argsHash: null, requestBytes: null };
    expect(opened.append([ROW])).toBe(1);
    expect(opened.append([bare])).toBe(2);
    expect(opened.seq).toBe(2);
    expect(text(opened)).toBe(OWNER_LINE + entryLine(1) + entryLine(2, bare));
  });

  it('reads back what it wrote as pending rows without ids', () => {
    const opened = journal();
    opened.append([ROW]);
    opened.append([{ ...ROW, origin: 'upstream', method: 'sampling/createMessage', server: null }]);
    expect(parseJournal(text(opened))).toEqual({
      owner: `${hostname()}:${process.pid}`,
      entries: [
        { seq: 1, row: ROW },
        { seq: 2, row: { ...ROW, origin: 'upstream', method: 'sampling/createMessage', server: null } },
      ],
    });
  });

  it('goes back to its header once committed, and numbers later starts on from the last one', () => {
    const opened = journal();
    opened.append([ROW]);
    opened.append([ROW]);
    opened.committed();
    expect(text(opened)).toBe(OWNER_LINE);
    expect(opened.append([ROW])).toBe(3);
    // Appends continue right after the header, not at the old end of the file.
    expect(text(opened)).toBe(OWNER_LINE + entryLine(3));
  });

  it('close(true) deletes the file, close(false) keeps it; a closed journal takes no more starts', () => {
    const [removed, kept] = [journal(), journal()];
    kept.append([ROW]);
    removed.close(true);
    kept.close(false);
    expect(existsSync(path.join(removed.dir, removed.name))).toBe(false);
    expect(text(kept)).toBe(OWNER_LINE + entryLine(1));
    expect(() => kept.append([ROW])).toThrow('the audit journal is closed');
    expect(kept.seq).toBe(1);
  });
});

describe('parseJournal', () => {
  it('keeps the lines before a last line cut short by a killed process', () => {
    const cut = entryLine(3).slice(0, 40);
    expect(parseJournal(OWNER_LINE + entryLine(1) + entryLine(2) + cut)).toEqual({
      owner: `${hostname()}:${process.pid}`,
      entries: [
        { seq: 1, row: ROW },
        { seq: 2, row: ROW },
      ],
    });
  });

  it('skips lines that are not starts, and has no owner without a header', () => {
    const lines = [
      '[1,"2025-03-01T12:00:00.000Z"]',
      '["1",' + entryLine(1).slice(3),
      '[2,3' + entryLine(2).slice(2),
      'garbage',
    ];
    expect(parseJournal(lines.join('\n') + '\n' + entryLine(4))).toEqual({
      owner: undefined,
      entries: [{ seq: 4, row: ROW }],
    });
  });

  it('reads an empty file as no owner and no entries', () => {
    expect(parseJournal('')).toEqual({ owner: undefined, entries: [] });
  });
});

describe('leftJournals', () => {
  it('reads every journal in the folder but the one named and those open in this process, with file, mark and owner', () => {
    const own = journal();
    const other = path.join(own.dir, '4242-1740830400000-abc123.jsonl');
    writeFileSync(other, '{"owner":"elsewhere:4242"}\n' + entryLine(7));
    writeFileSync(path.join(own.dir, 'notes.txt'), entryLine(1));

    expect(leftJournals(own.dir, own.name)).toEqual([
      {
        file: other,
        metaKey: 'journal:4242-1740830400000-abc123.jsonl',
        owner: 'elsewhere:4242',
        entries: [{ seq: 7, row: ROW }],
      },
    ]);
    // A journal this process has open is never another's to read, named or not.
    expect(leftJournals(own.dir, undefined).map((left) => left.file)).toEqual([other]);
    own.close(false);
    expect(
      leftJournals(own.dir, undefined)
        .map((left) => left.file)
        .sort(),
    ).toEqual([other, path.join(own.dir, own.name)].sort());
  });

  it('finds nothing when the folder does not exist', () => {
    expect(leftJournals(path.join(dir, 'missing.journal'), undefined)).toEqual([]);
  });
});
