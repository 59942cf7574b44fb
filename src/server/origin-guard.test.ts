import { describe, expect, it, vi } from 'vitest';
import { isLoopbackHost, originGuard } from './origin-guard.js';

interface Outcome {
  passed: boolean;
  status: number | undefined;
  body: unknown;
}

type GuardOptions = Parameters<typeof originGuard>[0];

function run(headers: Record<string, string>, options: Partial<GuardOptions> = {}): Outcome {
  const guard = originGuard({ loopback: true, allowedOrigins: [], allowedHosts: [], ...options });
  const outcome: Outcome = { passed: false, status: undefined, body: undefined };
  const res = {
    status(code: number) {
      outcome.status = code;
      return res;
    },
    json(body: unknown) {
      outcome.body = body;
      return res;
    },
  };
  const next = vi.fn(() => {
    outcome.passed = true;
  });
  guard({ headers } as never, res as never, next);
  return outcome;
}

const LOCAL = { host: '127.0.0.1:7800' };

describe('originGuard', () => {
  it('lets a request without Origin through', () => {
    expect(run(LOCAL)).toEqual({ passed: true, status: undefined, body: undefined });
  });

  it('allows loopback origins', () => {
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:7800', 'http://[::1]:7800', 'https://127.1.2.3']) {
      expect(run({ ...LOCAL, origin }).passed, origin).toBe(true);
    }
  });

  it("allows the gateway's own page off loopback (the dashboard posting to its own host), nothing else", () => {
    const remote = { loopback: false };
    expect(run({ host: 'gw.internal:7800', origin: 'http://gw.internal:7800' }, remote).passed).toBe(true);
    expect(run({ host: 'gw.internal:7800', origin: 'http://gw.internal:9999' }, remote).passed).toBe(false);
    expect(run({ host: 'gw.internal:7800', origin: 'http://evil.example' }, remote).passed).toBe(false);
  });

  it('rejects a foreign origin with 403 and a JSON-RPC error', () => {
    expect(run({ ...LOCAL, origin: 'http://evil.example' })).toEqual({
      passed: false,
      status: 403,
      body: {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Forbidden: origin http://evil.example is not allowed' },
        id: null,
      },
    });
  });

  it('rejects origins that only look like loopback', () => {
    for (const origin of ['http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'null', 'not a url']) {
      expect(run({ ...LOCAL, origin }).status, origin).toBe(403);
    }
  });

  it('allows configured origins', () => {
    const options = { allowedOrigins: ['https://app.example'] };
    expect(run({ ...LOCAL, origin: 'https://app.example' }, options).passed).toBe(true);
    expect(run({ ...LOCAL, origin: 'https://other.example' }, options).status).toBe(403);
  });

  it('rejects a foreign Host on a loopback bind', () => {
    expect(run({ host: 'evil.example:7800' })).toEqual({
      passed: false,
      status: 403,
      body: {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Forbidden: host evil.example:7800 is not allowed' },
        id: null,
      },
    });
    expect(run({}).status).toBe(403);
  });

  it('allows loopback Host values on a loopback bind', () => {
    for (const host of ['[::1]:7800', 'localhost:7800', '127.0.0.1:7800', 'localhost', '[::1]']) {
      expect(run({ host }).passed, host).toBe(true);
    }
  });

  it('allows configured hosts, with or without the port', () => {
    expect(run({ host: 'gateway.lan:7800' }, { allowedHosts: ['gateway.lan'] }).passed).toBe(true);
    expect(run({ host: 'gateway.lan:7800' }, { allowedHosts: ['gateway.lan:7800'] }).passed).toBe(true);
    expect(run({ host: 'gateway.lan:9999' }, { allowedHosts: ['gateway.lan:7800'] }).status).toBe(403);
  });

  it('does not check Host on a non-loopback bind without allowedHosts', () => {
    expect(run({ host: 'gateway.example:7800' }, { loopback: false }).passed).toBe(true);
    expect(run({ host: 'gateway.example:7800', origin: 'http://evil.example' }, { loopback: false }).status).toBe(403);
  });

  it('checks Host against allowedHosts on a non-loopback bind', () => {
    const options = { loopback: false, allowedHosts: ['gateway.example'] };
    expect(run({ host: 'gateway.example:7800' }, options).passed).toBe(true);
    expect(run({ host: 'localhost:7800' }, options).status).toBe(403);
  });
});

describe('isLoopbackHost', () => {
  it('recognises loopback names and addresses only', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['', '0.0.0.0', '10.0.0.1', '128.0.0.1', 'localhost.example', '127.0.0.1.nip.io']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
