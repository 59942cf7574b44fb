import type { HeaderReader } from '../http-client.js';

/**
 * How long a provider asked us to wait, in milliseconds: `retry-after-ms` (OpenAI,
 * Azure), `retry-after` in seconds or as an HTTP date (RFC 9110), or Gemini's
 * `RetryInfo.retryDelay` ("37s", "0.5s") in the error body. Undefined when none is
 * given or it cannot be read; never negative.
 */
export function retryAfterMs(headers: HeaderReader, nowMs: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.round(Number(ms)));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  return parseRetryAfter(value, nowMs);
}

export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Google's protobuf Duration in JSON: "30s", "1.5s". */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}
