/**
 * `Mcp-Param-{Name}` headers (2026-07-28 Streamable HTTP, SEP-2243). A tool may mark
 * arguments with `x-mcp-header`; clients mirror them into headers so that proxies can
 * route or rate-limit without reading the body. A server that reads the body must
 * check that the two agree (400, -32020 HeaderMismatch), or a load balancer routing on
 * the header and the gateway acting on the body would act on different values.
 */

interface Mirrored {
  /** The chain of `properties` keys from the schema root to the argument. */
  path: string[];
  header: string;
  type: 'string' | 'integer' | 'boolean' | undefined;
}

const cache = new WeakMap<object, Mirrored[]>();
const SENTINEL = /^=\?base64\?(.*)\?=$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Visible ASCII, space and tab: what a plain header value may hold. */
const PLAIN = /^[\t\x20-\x7e]*$/;

/** The mirrored arguments of a tool's inputSchema: only those reachable through `properties` alone count. */
function mirroredOf(schema: unknown): Mirrored[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const known = cache.get(schema);
  if (known) return known;
  const found: Mirrored[] = [];
  const walk = (node: unknown, path: string[], depth: number) => {
    const properties = (node as { properties?: unknown } | null)?.properties;
    if (depth > 16 || typeof properties !== 'object' || properties === null) return;
    for (const [key, child] of Object.entries(properties)) {
      if (typeof child !== 'object' || child === null) continue;
      const header = (child as { 'x-mcp-header'?: unknown })['x-mcp-header'];
      const type = (child as { type?: unknown }).type;
      if (typeof header === 'string' && header !== '') {
        found.push({
          path: [...path, key],
          header,
          type: type === 'string' || type === 'integer' || type === 'boolean' ? type : undefined,
        });
      }
      walk(child, [...path, key], depth + 1);
    }
  };
  walk(schema, [], 0);
  cache.set(schema, found);
  return found;
}

function valueAt(args: unknown, path: string[]): unknown {
  let value = args;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The header's value as the client meant it, or an error message when it is malformed. */
function decode(raw: string): { value: string } | { error: string } {
  const encoded = SENTINEL.exec(raw);
  if (!encoded) return PLAIN.test(raw) ? { value: raw } : { error: 'contains invalid characters' };
  if (!BASE64.test(encoded[1]!)) return { error: 'is not valid Base64 inside =?base64?…?=' };
  return { value: Buffer.from(encoded[1]!, 'base64').toString('utf8') };
}

function matches(header: string, body: unknown): boolean {
  if (typeof body === 'string') return header === body;
  if (typeof body === 'boolean') return header === String(body);
  // Integers compare as numbers (`42.0` is `42`).
  if (typeof body === 'number') return header.trim() !== '' && Number(header) === body;
  return false;
}

/**
 * Checks a 2026-era `tools/call`'s `Mcp-Param-*` headers against its arguments, using the
 * tool's schema as the gateway lists it. Returns why they disagree, or undefined.
 */
export function paramHeaderMismatch(
  headers: Headers,
  params: { name?: unknown; arguments?: unknown } | undefined,
  schemaOf: (tool: string) => unknown,
): string | undefined {
  if (typeof params?.name !== 'string') return undefined;
  for (const mirrored of mirroredOf(schemaOf(params.name))) {
    const name = `Mcp-Param-${mirrored.header}`;
    const raw = headers.get(name);
    const body = valueAt(params.arguments, mirrored.path);
    if (body === undefined || body === null) {
      if (raw !== null) return `${name} header is present but the argument ${mirrored.path.join('.')} is not`;
      continue;
    }
    if (raw === null) return `${name} header is missing for argument ${mirrored.path.join('.')}`;
    const decoded = decode(raw);
    if ('error' in decoded) return `${name} header value ${decoded.error}`;
    if (!matches(decoded.value, body)) {
      return `${name} header value '${decoded.value}' does not match body value '${String(body)}'`;
    }
  }
  return undefined;
}
