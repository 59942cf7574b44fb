import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { parseKeyValues, tracerFromEnv } from './tracing.js';

const log = createLogger({ level: 'silent' });
const span = {
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  name: 'x',
  kind: 'server' as const,
  startMs: 1,
  endMs: 2,
  attributes: { n: 1, f: 0.5, s: 's', b: true, none: undefined },
};

describe('tracerFromEnv', () => {
  it('is off without an endpoint, or when disabled', () => {
    expect(tracerFromEnv({}, log, '1')).toBeUndefined();
    expect(
      tracerFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_SDK_DISABLED: 'true' }, log, '1'),
    ).toBeUndefined();
    expect(
      tracerFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_TRACES_EXPORTER: 'none' }, log, '1'),
    ).toBeUndefined();
  });

  it('reads header and attribute lists the way the SDKs do', () => {
    expect(parseKeyValues('a=1, b = two%20words ,broken,=x,c=%E0%A4%A')).toEqual({
      a: '1',
      b: 'two words',
      c: '%E0%A4%A',
    });
  });

  it('sends OTLP JSON with typed attributes, and survives a collector that is down', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.url} ${body}`);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const tracer = tracerFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` }, log, '1.2.3')!;
    tracer.record(span);
    await tracer.flush();
    expect(bodies).toHaveLength(1);
    const [url, json] = bodies[0]!.split(' ', 2) as [string, string];
    expect(url).toBe('/v1/traces');
    const sent = JSON.parse(bodies[0]!.slice(url.length + 1)) as {
      resourceSpans: {
        scopeSpans: { spans: { attributes: unknown[]; startTimeUnixNano: string; status: unknown }[] }[];
      }[];
    };
    expect(json.length).toBeGreaterThan(0);
    const out = sent.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(out.startTimeUnixNano).toBe('1000000');
    expect(out.status).toEqual({ code: 0 });
    expect(out.attributes).toEqual([
      { key: 'n', value: { intValue: '1' } },
      { key: 'f', value: { doubleValue: 0.5 } },
      { key: 's', value: { stringValue: 's' } },
      { key: 'b', value: { boolValue: true } },
    ]);
    await new Promise((resolve) => server.close(resolve));
    tracer.record(span);
    await expect(tracer.flush()).resolves.toBeUndefined(); // dropped, logged, not thrown
  });
});
