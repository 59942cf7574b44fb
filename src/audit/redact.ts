import { hash } from 'node:crypto';

/**
 * What the audit log keeps of a call's arguments: secrets removed, size bounded. The
 * hash is of the whole canonical JSON of the original, so identical calls can be found
 * (dupes) without storing what they contained.
 */
export const REDACTED = '[REDACTED]';

/** Words that make a key secret (not `tokens`: `max_tokens` is a model setting), alone or as the last word(s) of a key (`userPassword`, `api_key`). */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'secrets',
  'token',

  'auth',
  'authorization',
  'apikey',
  'cookie',
  'cookies',
  'credential',
  'credentials',
  'signature',
  'privatekey',
  'accesskey',
  'sessionid',
  'clientsecret',
  'bearer',
]);

/**
 * Whether a key is secret, remembered: the same few keys come back on every call, and
 * the split below is two regex replaces and a split each. Bounded, so that a caller
 * sending ever new keys cannot grow it: it starts over when full.
 */
const secretKeys = new Map<string, boolean>();
const SECRET_KEYS_MAX = 4096;

function secretKey(key: string): boolean {
  // Only keys of a sane length are remembered: a caller chooses them, and could send huge ones.
  if (key.length > 64) return splitSecretKey(key);
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    if (secretKeys.size >= SECRET_KEYS_MAX) secretKeys.clear();
    secret = splitSecretKey(key);
    secretKeys.set(key, secret);
  }
  return secret;
}

/** Splits `userAPIKey`, `api_key`, `x-api-key` into lowercase words and tests the last one or two. */
function splitSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const last = words.at(-1) ?? '';
  const lastTwo = words.slice(-2).join('');
  return SECRET_WORDS.has(last) || SECRET_WORDS.has(lastTwo);
}

/** Values that are credentials whatever key they sit under. */
const SECRET_VALUES: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Basic credentials are base64: a digit or one of + / = sets them apart from a word.
  /\bBasic\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, // JWT
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, // OpenAI, Anthropic
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g, // GitHub
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key id
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API key
  /\bglpat-[A-Za-z0-9_-]{20,}/g, // GitLab
];

/**
 * Something every pattern above needs (case-insensitive, so a superset): a string without
 * any of these cannot match one, and is kept without running the eleven patterns.
 */
const SECRET_HINT = /-----BEGIN|bearer\s|basic\s|eyJ|sk-|gh[oprsu]_|github_pat_|AKIA|ASIA|xox[abposr]-|AIza|glpat-/i;

function redactString(value: string): string {
  if (!SECRET_HINT.test(value)) return value;
  let out = value;
  for (const pattern of SECRET_VALUES) {
    pattern.lastIndex = 0;
    if (pattern.test(out)) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, REDACTED);
    }
  }
  return out;
}

/** A copy of `value` with secret-looking keys and credential-looking values replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any real argument: not worth the risk of keeping a secret in it.
  if (depth > 64) return `${REDACTED} (nested too deep)`;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKey(key) && item !== null && item !== '' ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Built by appending (no arrays of parts to join): it runs on every audited call.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const keys = Object.keys(value);
  if (!sorted(keys)) keys.sort();
  let out = '{';
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item);
  }
  return out + '}';
}

/** Whether `keys` are in `sort()`'s order already (often: a sort is not free even then). */
function sorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Cuts `text` to at most `max` bytes of UTF-8, marking the cut. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  const cut = Buffer.from(text)
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}… [truncated, ${Buffer.byteLength(text)} bytes]`;
}

/** Whether `redact` would change anything in `value` (a walk that allocates nothing). */
function hasSecrets(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return SECRET_HINT.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (depth > 64) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasSecrets(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    if (secretKey(key) ? item !== null && item !== '' : hasSecrets(item, depth + 1)) return true;
  }
  return false;
}

/**
 * What the audit row stores for a call's arguments. Most arguments hold nothing to
 * redact: their canonical JSON is then written once and serves for the hash and the row.
 */
export function auditArgs(args: unknown, maxBytes: number): { argsHash: string; args: string; requestBytes: number } {
  const value = args ?? {};
  const canonical = canonicalJson(value);
  const kept = hasSecrets(value) ? canonicalJson(redact(value)) : canonical;
  return {
    argsHash: sha256Hex(canonical),
    args: truncateBytes(kept, maxBytes),
    requestBytes: Buffer.byteLength(canonical),
  };
}
