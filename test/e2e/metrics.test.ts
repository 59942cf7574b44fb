import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';

/** `/metrics` in the Prometheus text format: counters move by exactly the calls made. */
afterAll(killAll);

type Sample = { name: string; labels: Record<string, string>; value: number };

/** A reader for the Prometheus text exposition format (what a scraper parses). */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

describe('/metrics', () => {
  it('counts calls by agent, server, tool and status, exactly', async () => {
    const dir = tempDir();
    writePolicy(dir, 'default', { allow: ['*'], deny: ['recorder__crash'] });
    const config = writeConfig(dir, { mcpServers: { recorder: { command: 'node', args: [RECORDER] } } });
    const { url, base } = await startGatewayHttp(config);
    const scrape = async () => {
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return parsePrometheus(await response.text());
    };
    const client = await connectClient('v1', { url });
    await client.listTools();
    const before = await scrape();
    for (let i = 0; i < 3; i++) await client.callTool('recorder__echo', { text: `n${i}` });
    await client.callTool('recorder__fail', {});
    await expect(client.callTool('recorder__crash', {})).rejects.toThrow();
    const after = await scrape();

    const delta = (labels: Record<string, string>) =>
      value(after, 'switchboard_calls_total', labels) - value(before, 'switchboard_calls_total', labels);
    expect(delta({ agent: 'default', server: 'recorder', tool: 'recorder__echo', status: 'ok' })).toBe(3);
    expect(delta({ tool: 'recorder__fail', status: 'error' })).toBe(1);
    expect(delta({ tool: 'recorder__crash', status: 'denied' })).toBe(1);
    expect(delta({})).toBe(5);
    const histogram = (labels: Record<string, string>) =>
      value(after, 'switchboard_call_duration_seconds_count', labels) -
      value(before, 'switchboard_call_duration_seconds_count', labels);
    expect(histogram({ server: 'recorder', status: 'ok' })).toBe(3);
    expect(value(after, 'switchboard_upstream_up', { server: 'recorder' })).toBe(1);
    expect(after.some((s) => s.name === 'switchboard_audit_queue_depth')).toBe(true);
    // Bounded labels: no argument values anywhere.
    expect(after.some((s) => Object.values(s.labels).some((v) => ['n0', 'n1', 'n2'].includes(v)))).toBe(false);
    await client.close();
  });
});
