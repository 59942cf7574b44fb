import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeTables, referenceTables, withReference } from './reference.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("the README's reference tables", () => {
  it('match the schemas (run `npm run build && npm run docs` after changing a schema)', () => {
    expect(normalizeTables(readme)).toBe(normalizeTables(withReference(readme)));
  });

  it('cover every key, with a description for each', () => {
    const tables = referenceTables();
    for (const key of ['command', 'url', 'timeoutMs', 'isolation', 'sampling', 'pinning', 'readOnlyTools']) {
      expect(tables.servers).toContain(`\`${key}\``);
    }
    for (const key of ['tokens', 'allow', 'deny', 'readOnly', 'quotas', 'requireApproval', 'models']) {
      expect(tables.policy).toContain(`\`${key}\``);
    }
    for (const line of Object.values(tables).join('\n').split('\n').slice(2)) {
      if (line.startsWith('| ---') || line.startsWith('| key')) continue;
      expect(line.trim().endsWith('|  |'), `no description: ${line}`).toBe(false);
    }
  });
});

describe('schema/servers.schema.json', () => {
  it('matches the zod schema (run `npm run build && npm run schema` after changing it)', async () => {
    const { configJsonSchema } = await import('./json-schema.js');
    const shipped = JSON.parse(
      readFileSync(new URL('../../schema/servers.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(shipped).toEqual(configJsonSchema());
  });
});
