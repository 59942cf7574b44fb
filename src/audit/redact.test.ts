import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDACTED, auditArgs, canonicalJson, redact, truncateBytes } from './redact.js';

// Fake credentials in the shapes real ones have; none of them was ever valid.
const CREDENTIALS: [string, string][] = [
  ['a Bearer token', 'Bearer abc123def456ghi789'],
  ['an OpenAI key', 'sk-abcdefghijklmnop1234567890'],
  ['an Anthropic key', 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx'],
  ['an OpenAI project key', 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx'],
  ['a GitHub token', 'ghp_0123456789abcdefghijABCDEFGHIJklmn'],
  ['a GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv'],
  ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
  ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
  [
    'a PEM private key',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAxFAKEFAKEFAKE\nabcdefFAKE==\n-----END RSA PRIVATE KEY-----',
  ],
  ['a Slack bot token', 'xoxb-1234567890-0987654321-AbCdEfGhIjKl'],
  ['a lowercase bearer token', 'bearer abc123def456ghi789'],
  ['Basic credentials', 'Basic dXNlcjpwYXNzd29yZDE='],
  ['an AWS temporary key id', 'ASIAIOSFODNN7EXAMPLE'],
  ['a GitHub OAuth token', 'gho_0123456789abcdefghijABCDEFGHIJklmn'],
  ['a Google API key', 'AIzaSyA-0123456789abcdefghijklmnopqrstu'],
  ['a GitLab token', 'glpat-0123456789abcdefghij'],
];

const SECRET_KEYS = [
  'password',
  'apiKey',
  'api_key',
  'Authorization',
  'token',
  'access_token',
  'client_secret',
  'cookie',
  'privateKey',
];

describe('redact', () => {
  it.each(SECRET_KEYS)('replaces the value under %s at the top level', (key) => {
    expect(redact({ [key]: 'hunter2', path: '/tmp/a' })).toEqual({ [key]: REDACTED, path: '/tmp/a' });
  });

  it.each(SECRET_KEYS)('replaces the value under %s deep inside objects and arrays', (key) => {
    const args = { request: { headers: [{ name: 'x' }, { [key]: 'hunter2' }], retries: [[{ [key]: 42 }]] } };
    expect(redact(args)).toEqual({
      request: { headers: [{ name: 'x' }, { [key]: REDACTED }], retries: [[{ [key]: REDACTED }]] },
    });
  });

  it('replaces a whole object that sits under a secret key', () => {
    expect(redact({ auth: { user: 'bob', pass: 'x' } })).toEqual({ auth: REDACTED });
  });

  it.each(CREDENTIALS)('cuts %s out of a longer string and keeps the text around it', (_label, secret) => {
    expect(redact({ note: `before ${secret} after` })).toEqual({ note: `before ${REDACTED} after` });
  });

  it.each(CREDENTIALS)('cuts %s out of strings in arrays and at any depth', (_label, secret) => {
    expect(redact({ a: [{ b: [`x ${secret}`] }], c: secret })).toEqual({ a: [{ b: [`x ${REDACTED}`] }], c: REDACTED });
    expect(redact(`log: ${secret}`)).toBe(`log: ${REDACTED}`);
    // auditArgs checks first whether there is anything to redact at all: it must see it too.
    expect(auditArgs({ a: [{ b: [`x ${secret}`] }] }, 1_000_000).args).toBe(`{"a":[{"b":["x ${REDACTED}"]}]}`);
  });

  it('stores arguments with nothing to redact as their canonical JSON', () => {
    const args = { messages: [{ role: 'user', content: { type: 'text', text: 'a basic question' } }], maxTokens: 16 };
    expect(auditArgs(args, 1_000_000).args).toBe(canonicalJson(args));
    expect(auditArgs({ token: '', password: null, n: 1 }, 1_000_000).args).toBe('{"n":1,"password":null,"token":""}');
  });

  it('cuts every credential out of a string that holds several', () => {
    const text = 'use sk-abcdefghijklmnop1234567890 or ghp_0123456789abcdefghijABCDEFGHIJklmn, then retry';
    expect(redact(text)).toBe(`use ${REDACTED} or ${REDACTED}, then retry`);
  });

  it('cuts a PEM block whose end marker is missing (the text was cut) up to the end', () => {
    expect(redact('key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS')).toBe(`key:\n${REDACTED}`);
  });

  it('keeps harmless values as they are', () => {
    const args = {
      note: 'token count: 5',
      max_tokens: 100,
      count: 5,
      enabled: false,
      ratio: 0.5,
      nothing: null,
      path: '/home/me/report.txt',
      tags: ['alpha', 'beta', 7, true],
      task: 'risk-assessment-for-q3',
      nested: { description: 'the password field must not be empty' },
    };
    expect(redact(args)).toEqual(args);
  });

  it('leaves an empty or null value under a secret key visible, so a missing secret can be seen', () => {
    expect(redact({ password: '', token: null })).toEqual({ password: '', token: null });
  });

  it('returns a copy and leaves its input untouched', () => {
    const args = { password: 'hunter2', list: ['Bearer abc123def456ghi789'] };
    redact(args);
    expect(args).toEqual({ password: 'hunter2', list: ['Bearer abc123def456ghi789'] });
  });

  // Fixed bug: redact() stops at depth 64 and returns the deeper object as it is, so secrets
  // nested deeper than that are stored in the clear (fails open).
  // input:    70 nested objects `{ next: { next: … { password: 'hunter2' } } }`
  // expected: the stored args do not contain "hunter2"
  // actual:   they do: `{"next":{…{"password":"hunter2"}…}}`
  it('replaces a secret key nested deeper than 64 levels', () => {
    let args: Record<string, unknown> = { password: 'hunter2' };
    for (let i = 0; i < 70; i++) args = { next: args };
    expect(canonicalJson(redact(args))).not.toContain('hunter2');
    expect(auditArgs(args, 1_000_000).args).not.toContain('hunter2');
  });

  // Fixed bug: the `Basic <credentials>` pattern matches the English word "Basic" followed by
  // any 8+ letter word, so ordinary text is blanked out of the audit log.
  // input:    { query: 'Basic authentication tutorial' }
  // expected: unchanged
  // actual:   { query: '[REDACTED] tutorial' }
  it('keeps ordinary text that starts with the word "Basic"', () => {
    expect(redact({ query: 'Basic authentication tutorial' })).toEqual({ query: 'Basic authentication tutorial' });
  });
});

describe('canonicalJson', () => {
  it('gives the same text whatever the key order, at every level', () => {
    const a = { b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('sorts keys as sort() does (UTF-16 order), quotes them as JSON does, and keeps empty containers', () => {
    const value = { é: 1, Z: 2, a: 3, '': 4, 'q"uote': [], 'é\n': {}, first: { b: undefined, a: 0 } };
    expect(canonicalJson(value)).toBe('{"":4,"Z":2,"a":3,"first":{"a":0},"q\\"uote":[],"é":1,"é\\n":{}}');
    expect(canonicalJson({ a: [], b: {} })).toBe('{"a":[],"b":{}}');
  });

  it('drops undefined object members, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: { c: undefined, d: null } })).toBe('{"b":{"d":null}}');
    expect(canonicalJson([1, undefined, 2])).toBe(JSON.stringify([1, undefined, 2]));
  });

  it('writes scalars and strings exactly as JSON does', () => {
    for (const value of [0, -1.5, true, null, 'a "quoted"\nline', 'é😀']) {
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    }
    expect(JSON.parse(canonicalJson({ s: 'é😀\u0000' }))).toEqual({ s: 'é😀\u0000' });
  });

  it('keeps array order (arrays are ordered data)', () => {
    expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
  });
});

describe('auditArgs', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('hashes the canonical JSON of the original arguments, before redaction', () => {
    const stored = auditArgs({ q: 'x', password: 'hunter2' }, 4096);
    expect(stored.argsHash).toBe(sha256('{"password":"hunter2","q":"x"}'));
    expect(stored.args).toBe('{"password":"[REDACTED]","q":"x"}');
    expect(stored.requestBytes).toBe(Buffer.byteLength('{"password":"hunter2","q":"x"}'));
  });

  it('gives two calls that differ only in a secret different hashes but the same stored args', () => {
    const one = auditArgs({ url: 'https://x', headers: { Authorization: 'Bearer aaaaaaaaaaaa' } }, 4096);
    const two = auditArgs({ headers: { Authorization: 'Bearer bbbbbbbbbbbb' }, url: 'https://x' }, 4096);
    expect(one.args).toBe(two.args);
    expect(one.args).not.toContain('aaaaaaaa');
    expect(one.argsHash).not.toBe(two.argsHash);
  });

  it('gives the same hash to the same arguments in another key order', () => {
    expect(auditArgs({ a: 1, b: [1, 2] }, 4096).argsHash).toBe(auditArgs({ b: [1, 2], a: 1 }, 4096).argsHash);
  });

  it('truncates long arguments with a marker, while the hash covers the whole', () => {
    const args = { text: 'x'.repeat(1000) };
    const whole = canonicalJson(args);
    const stored = auditArgs(args, 100);
    expect(stored.args).toBe(`${whole.slice(0, 100)}… [truncated, ${Buffer.byteLength(whole)} bytes]`);
    expect(stored.argsHash).toBe(sha256(whole));
    expect(stored.requestBytes).toBe(1011);

    const differentTail = auditArgs({ text: 'x'.repeat(999) + 'y' }, 100);
    expect(differentTail.args).toBe(stored.args);
    expect(differentTail.argsHash).not.toBe(stored.argsHash);
  });

  it('keeps arguments that fit exactly', () => {
    const whole = canonicalJson({ text: 'abc' });
    expect(auditArgs({ text: 'abc' }, Buffer.byteLength(whole)).args).toBe(whole);
  });

  it('stores missing arguments as {}', () => {
    expect(auditArgs(undefined, 100)).toEqual({ argsHash: sha256('{}'), args: '{}', requestBytes: 2 });
  });
});

describe('truncateBytes', () => {
  it('returns text within the limit unchanged', () => {
    expect(truncateBytes('héllo', 6)).toBe('héllo');
  });

  it('never splits a multi-byte character, wherever the cut falls', () => {
    const text = 'aé中😀b🏳️‍🌈ü';
    const total = Buffer.byteLength(text);
    for (let max = 0; max < total; max++) {
      const out = truncateBytes(text, max);
      const marker = `… [truncated, ${total} bytes]`;
      expect(out.endsWith(marker)).toBe(true);
      const kept = out.slice(0, -marker.length);
      expect(kept).not.toContain('\uFFFD');
      expect(text.startsWith(kept)).toBe(true);
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(max);
      // Nothing that fits was dropped: the next whole character would not have fitted.
      const next = [...text.slice(kept.length)][0] ?? '';
      expect(Buffer.byteLength(kept + next)).toBeGreaterThan(max);
    }
  });
});
