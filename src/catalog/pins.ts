import type { Tool } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { exposedName } from './names.js';

/** The parts of a tool definition that are pinned: what a model reads and what it sends. */
export function pinnedDefinition(tool: Tool): Record<string, unknown> {
  const { name, description, inputSchema, outputSchema, annotations } = tool;
  return { name, description, inputSchema, outputSchema, annotations };
}

export interface PinChange {
  server: string;
  tool: string;
  exposedName: string;
  approved: Record<string, unknown>;
  pending: Record<string, unknown>;
  changedAt: string;
}

type PinRow = { hash: string; pending_hash: string | null };

/**
 * Tool pinning against rug pulls. The first definition seen of each tool is stored
 * (its SHA-256 over the canonical JSON of name, description, schemas and annotations).
 * A later, different definition is kept as a pending change: the caller quarantines
 * the tool (or only warns) until someone approves the change with `switchboard pins`.
 */
export class PinStore {
  private readonly get;
  private readonly insert;
  private readonly setPending;
  private readonly clearPending;
  private readonly dataVersion;

  constructor(private readonly db: Db) {
    this.get = db.prepare('SELECT hash, pending_hash FROM tool_pins WHERE server = ? AND tool = ?');
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO tool_pins (server, tool, hash, definition, first_seen) VALUES (?, ?, ?, ?, ?)',
    );
    this.setPending = db.prepare(
      'UPDATE tool_pins SET pending_hash = ?, pending_definition = ?, changed_at = ? WHERE server = ? AND tool = ?',
    );
    this.clearPending = db.prepare(
      'UPDATE tool_pins SET pending_hash = NULL, pending_definition = NULL, changed_at = NULL WHERE server = ? AND tool = ?',
    );
    this.dataVersion = db.prepare("SELECT value FROM audit_meta WHERE key = 'pins_version'").pluck();
  }

  /**
   * Compares a server's tools with their pins. Returns the tools whose definition differs
   * from the approved one, and which of those are newly changed (to report once).
   */
  check(server: string, tools: readonly Tool[]): { changed: Set<string>; fresh: PinChange[] } {
    const changed = new Set<string>();
    const fresh: PinChange[] = [];
    const now = new Date().toISOString();
    this.db
      .transaction(() => {
        for (const tool of tools) {
          const definition = pinnedDefinition(tool);
          const json = canonicalJson(definition);
          const hash = sha256Hex(json);
          const row = this.get.get(server, tool.name) as PinRow | undefined;
          if (!row) {
            this.insert.run(server, tool.name, hash, json, now);
            continue;
          }
          if (row.hash === hash) {
            if (row.pending_hash) this.clearPending.run(server, tool.name); // changed back
            continue;
          }
          changed.add(tool.name);
          if (row.pending_hash !== hash) {
            this.setPending.run(hash, json, now, server, tool.name);
            fresh.push(this.change(server, tool.name)!);
          }
        }
      })
      .immediate();
    return { changed, fresh };
  }

  private change(server: string, tool: string): PinChange | undefined {
    const row = this.db
      .prepare('SELECT definition, pending_definition, changed_at FROM tool_pins WHERE server = ? AND tool = ?')
      .get(server, tool) as
      { definition: string; pending_definition: string | null; changed_at: string | null } | undefined;
    if (!row?.pending_definition) return undefined;
    return {
      server,
      tool,
      exposedName: exposedName(server, tool).name,
      approved: JSON.parse(row.definition) as Record<string, unknown>,
      pending: JSON.parse(row.pending_definition) as Record<string, unknown>,
      changedAt: row.changed_at ?? '',
    };
  }

  /** Every change awaiting approval. */
  pending(): PinChange[] {
    const rows = this.db
      .prepare('SELECT server, tool FROM tool_pins WHERE pending_hash IS NOT NULL ORDER BY server, tool')
      .all() as { server: string; tool: string }[];
    return rows.map((r) => this.change(r.server, r.tool)!).filter(Boolean);
  }

  /** Approves pending changes (by exposed name, or all); returns what was approved. */
  approve(selector: { exposedName: string } | 'all'): PinChange[] {
    const chosen = this.pending().filter((c) => selector === 'all' || c.exposedName === selector.exposedName);
    const update = this.db.prepare(
      `UPDATE tool_pins SET hash = pending_hash, definition = pending_definition,
         pending_hash = NULL, pending_definition = NULL, changed_at = NULL WHERE server = ? AND tool = ?`,
    );
    const bump = this.db.prepare(
      "INSERT INTO audit_meta (key, value) VALUES ('pins_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
    this.db
      .transaction(() => {
        for (const c of chosen) update.run(c.server, c.tool);
        // What running gateways poll to notice an approval.
        bump.run(`${Date.now()}-${Math.random()}`);
      })
      .immediate();
    return chosen;
  }

  /** Changes when an approval is written (by `switchboard pins approve`, in any process). */
  version(): string {
    return String(this.dataVersion.get() ?? '');
  }
}
