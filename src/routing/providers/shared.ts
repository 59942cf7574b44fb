import type { z } from 'zod';
import { ProviderError } from '../provider-error.js';

/** `base` + `path`, with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProviderError('bad_response', `${what} is not JSON: ${snippet(text)}`, { cause: error });
  }
}

/** Parses a provider's body with its schema; a mismatch is a `bad_response`, retried elsewhere. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new ProviderError('bad_response', `${what} is malformed${where}: ${issue?.message ?? 'unexpected shape'}`);
}

/** The start of a body, for messages. */
export function snippet(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat || '(empty body)';
}

/** Auth and content-type headers, then the provider's configured extras (which win). */
export function headersFor(auth: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  return { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...auth, ...extra };
}

/** JSON.parse that answers undefined instead of throwing (for error bodies that may be HTML). */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
