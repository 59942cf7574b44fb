import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// V8 flags are per process, so each case runs in a node of its own, on the built module
// (the test setup builds dist/). The child keeps ~30 MB of objects alive in two steps
// and prints the new space's size (MB) before, after the first step, and after the
// second; between the steps it releases the young generation.
const HEAP = new URL('../dist/heap.js', import.meta.url).href;
const SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
const heap = await import(${JSON.stringify(HEAP)});
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
const keep = [];
const survive = () => { for (let i = 0; i < 300000; i++) keep.push({ i, s: 'x' + i }); };
const sizes = [newSpace()];
if (process.env.HOLD === '1') heap.holdYoungGeneration();
survive();
sizes.push(newSpace());
heap.releaseYoungGeneration();
survive();
sizes.push(newSpace());
process.stdout.write(JSON.stringify(sizes));
`;

function sizes(env: Record<string, string>, nodeArgs: string[] = []): number[] {
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as number[];
}

describe('young generation during startup', () => {
  it('held: the new space stays far smaller than without the hold, and grows again once released', () => {
    const [, grown] = sizes({ HOLD: '0' }); // the reference: as V8 decides
    const [, held, released] = sizes({ HOLD: '1' });
    expect(held).toBeLessThan(grown! / 4);
    expect(released).toBeGreaterThan(held! * 4);
  });

  it.each([
    ['in NODE_OPTIONS', { NODE_OPTIONS: '--max-semi-space-size=8' }, []],
    ['on the command line', {}, ['--semi-space-growth-factor=2']],
  ])('leaves the young generation alone when the user sizes it (a semi-space flag %s)', (_where, env, args) => {
    const [initial, grown] = sizes({ HOLD: '1', ...env }, args);
    expect(grown).toBeGreaterThan(initial! * 4);
  });
});
