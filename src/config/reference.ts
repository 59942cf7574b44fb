import { z } from 'zod';
import { PolicySchema } from '../policy/schema.js';
import { RouterSettingsSchema, TargetInfoSchema } from '../routing/settings.js';
import { GatewaySchema, ProviderSchema, RemoteServerSchema, StdioServerSchema } from './schema.js';

/**
 * The README's reference tables, generated from the zod schemas so that they cannot
 * drift: `npm run docs` writes them between `<!-- reference:NAME -->` markers, and a
 * test fails when the README and the schemas disagree.
 */
type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
};

function properties(schema: z.ZodType): Record<string, JsonSchema> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return json.properties ?? {};
}

function typeOf(p: JsonSchema): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.const !== undefined) return JSON.stringify(p.const);
  if (p.anyOf) return p.anyOf.map(typeOf).join(' | ');
  if (p.type === 'array') return `${p.items ? typeOf(p.items) : 'any'}[]`;
  if (p.type === 'object' && p.additionalProperties && typeof p.additionalProperties === 'object') {
    return `{ [key]: ${typeOf(p.additionalProperties)} }`;
  }
  return Array.isArray(p.type) ? p.type.join(' | ') : (p.type ?? 'any');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(headers: string[], rows: string[][]): string {
  return [row(headers), row(headers.map(() => '---')), ...rows.map(row)].join('\n');
}

function fieldRows(props: Record<string, JsonSchema>, skip: string[] = []): [string, JsonSchema][] {
  return Object.entries(props).filter(([key]) => !skip.includes(key) && key !== '$schema');
}

function fmtDefault(p: JsonSchema): string {
  return p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``;
}

export function referenceTables(): Record<
  'servers' | 'gateway' | 'policy' | 'providers' | 'router' | 'targets',
  string
> {
  const stdio = properties(StdioServerSchema);
  const remote = properties(RemoteServerSchema);
  const keys = [...new Set([...Object.keys(stdio), ...Object.keys(remote)])];
  const serverRows = keys.map((key) => {
    const p = (stdio[key] ?? remote[key])!;
    const appliesTo = stdio[key] && remote[key] ? 'all' : stdio[key] ? 'stdio' : 'http, sse';
    if (key === 'type') {
      const meaning = '`stdio` (implied by `command`), `http` (streamable HTTP) or `sse` (legacy HTTP+SSE).';
      return ['`type`', 'all', cell('"stdio" | "http" | "sse"'), '', cell(meaning)];
    }
    return [`\`${key}\``, appliesTo, cell(typeOf(p)), fmtDefault(p), cell(p.description ?? '')];
  });
  const gateway = fieldRows(properties(GatewaySchema)).map(([key, p]) => [
    `\`${key}\``,
    cell(typeOf(p)),
    fmtDefault(p),
    cell(p.description ?? ''),
  ]);
  const policy = fieldRows(properties(PolicySchema)).map(([key, p]) => [
    `\`${key}\``,
    cell(typeOf(p)),
    fmtDefault(p),
    cell(p.description ?? ''),
  ]);
  const simple = (schema: z.ZodType) =>
    table(
      ['key', 'type', 'default', 'meaning'],
      fieldRows(properties(schema)).map(([key, p]) => [
        `\`${key}\``,
        cell(typeOf(p)),
        fmtDefault(p),
        cell(p.description ?? ''),
      ]),
    );
  return {
    providers: simple(ProviderSchema),
    router: simple(RouterSettingsSchema),
    targets: simple(TargetInfoSchema),
    servers: table(['key', 'applies to', 'type', 'default', 'meaning'], serverRows),
    gateway: table(['key', 'type', 'default', 'meaning'], gateway),
    policy: table(['key', 'type', 'default', 'meaning'], policy),
  };
}

/** The README with every reference section replaced by what the schemas say now. */
export function withReference(readme: string): string {
  let out = readme;
  for (const [name, content] of Object.entries(referenceTables())) {
    const start = `<!-- reference:${name} -->`;
    const end = `<!-- /reference:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} … ${end} markers`);
    out = `${out.slice(0, from + start.length)}\n\n${content}\n\n${out.slice(to)}`;
  }
  return out;
}

/** Table rows with cells trimmed, so that formatting (column padding) never counts as drift. */
export function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .map((c) => c.trim())
        .map((c) => (/^-+$/.test(c) ? '---' : c))
        .join('|'),
    )
    .join('\n');
}
