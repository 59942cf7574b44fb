import { describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

interface FakeLists {
  tools?: Record<string, unknown>[];
  prompts?: Record<string, unknown>[];
  resources?: Record<string, unknown>[];
  templates?: Record<string, unknown>[];
}

/** Only what Catalog reads from an Upstream. */
function upstream(name: string, lists: FakeLists, status = 'ready', config: Record<string, unknown> = {}): never {
  return {
    name,
    status,
    config: { readOnlyTools: [], trustAnnotations: true, ...config },
    lists: { tools: [], prompts: [], resources: [], templates: [], ...lists },
  } as never;
}

function tool(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, inputSchema: { type: 'object' }, ...extra };
}

describe('Catalog', () => {
  it('exposes tools and prompts as <server>__<name>', () => {
    const catalog = new Catalog([
      upstream('files', { tools: [tool('read_file')], prompts: [{ name: 'summarise' }] }),
      upstream('memory', { tools: [tool('create_entities')] }),
    ]);
    expect(catalog.toolList.map((t) => t.name)).toEqual(['files__read_file', 'memory__create_entities']);
    expect(catalog.promptList.map((p) => p.name)).toEqual(['files__summarise']);
  });

  it('finds a tool by exposed name, with the upstream and its original name', () => {
    const catalog = new Catalog([upstream('files', { tools: [tool('read.file')] })]);
    const entry = catalog.tool('files__read_file');
    expect(entry).toMatchObject({ exposed: 'files__read_file', server: 'files', name: 'read.file' });
    expect(entry?.item.name).toBe('files__read_file');
    expect(catalog.tool('files__read.file')).toBeUndefined();
    expect(catalog.tool('nope__read_file')).toBeUndefined();
  });

  it('finds a prompt by exposed name', () => {
    const catalog = new Catalog([upstream('docs', { prompts: [{ name: 'review code', description: 'd' }] })]);
    expect(catalog.prompt('docs__review_code')).toMatchObject({ server: 'docs', name: 'review code' });
  });

  it('keeps every other field of a tool unchanged', () => {
    const original = tool('search', {
      title: 'Search',
      description: 'Finds things',
      inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      outputSchema: { type: 'object', properties: { hits: { type: 'array' } } },
      annotations: { readOnlyHint: true, openWorldHint: false },
      _meta: { 'example.com/x': 1 },
    });
    const catalog = new Catalog([upstream('web', { tools: [original] })]);
    expect(catalog.toolList).toEqual([{ ...original, name: 'web__search' }]);
    // The upstream's own definition is not mutated.
    expect(original.name).toBe('search');
  });

  it('gives names that collide after sanitising different valid names', () => {
    const catalog = new Catalog([upstream('files', { tools: [tool('read.file'), tool('read_file')] })]);
    const names = catalog.toolList.map((t) => t.name);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name).toMatch(VALID);
    expect(names).toContain('files__read_file');

    // Each exposed name leads back to its own upstream name.
    const originals = names.map((n) => catalog.tool(n)?.name).sort();
    expect(originals).toEqual(['read.file', 'read_file']);
  });

  it('names the same way whatever the order of upstreams and of their lists', () => {
    const a = [tool('read.file'), tool('read_file'), tool('read file'), tool('write')];
    const b = [{ name: 'x.y' }, { name: 'x_y' }];
    const c = [tool('q'.repeat(80) + '1'), tool('q'.repeat(80) + '2')];
    const forward = new Catalog([upstream('files', { tools: a, prompts: b }), upstream('long', { tools: c })]);
    const shuffled = new Catalog([
      upstream('long', { tools: [...c].reverse() }),
      upstream('files', { tools: [a[2], a[0], a[3], a[1]] as Record<string, unknown>[], prompts: [...b].reverse() }),
    ]);
    const mapping = (catalog: Catalog) => ({
      tools: Object.fromEntries(catalog.tools.map((e) => [`${e.server}/${e.name}`, e.exposed])),
      prompts: Object.fromEntries(catalog.prompts.map((e) => [`${e.server}/${e.name}`, e.exposed])),
    });
    expect(mapping(shuffled)).toEqual(mapping(forward));
    expect(shuffled.toolList).toEqual(forward.toolList);
    expect(new Set(forward.tools.map((e) => e.exposed)).size).toBe(6);
  });

  it('reports shortened names and collisions', () => {
    const long = 'l'.repeat(70);
    const catalog = new Catalog([
      upstream('files', { tools: [tool('read.file'), tool('read_file'), tool(long), tool('ok')] }),
      upstream('docs', { prompts: [{ name: 'a.b' }, { name: 'a_b' }] }),
    ]);
    const reports = catalog.nameReports();
    expect(reports).toHaveLength(3);
    expect(reports).toContainEqual({
      kind: 'tool',
      server: 'files',
      name: long,
      exposed: expect.stringMatching(/^files__l+_[0-9a-f]{8}$/),
      reason: 'shortened',
    });
    expect(reports).toContainEqual({
      kind: 'tool',
      server: 'files',
      name: expect.stringMatching(/^read[._]file$/),
      exposed: expect.stringMatching(/^files__read_file_[0-9a-f]{8}$/),
      reason: 'collision',
    });
    expect(reports).toContainEqual({
      kind: 'prompt',
      server: 'docs',
      name: expect.stringMatching(/^a[._]b$/),
      exposed: expect.stringMatching(/^docs__a_b_[0-9a-f]{8}$/),
      reason: 'collision',
    });
    // Each reported name is the one the catalog serves.
    for (const report of reports.filter((r) => r.kind === 'tool')) {
      expect(catalog.tool(report.exposed)?.name).toBe(report.name);
    }
  });

  it('reports nothing when every name is valid and unique', () => {
    const catalog = new Catalog([upstream('files', { tools: [tool('read_file')], prompts: [{ name: 'p' }] })]);
    expect(catalog.nameReports()).toEqual([]);
  });

  it('leaves out upstreams that are not ready', () => {
    const catalog = new Catalog([
      upstream('up', { tools: [tool('t')], resources: [{ uri: 'file:///a', name: 'a' }] }),
      upstream('starting', { tools: [tool('t')], prompts: [{ name: 'p' }] }, 'connecting'),
      upstream('broken', { tools: [tool('t')], resources: [{ uri: 'file:///b', name: 'b' }] }, 'failed'),
      upstream('gone', { templates: [{ uriTemplate: 'x://{id}', name: 'x' }] }, 'closed'),
    ]);
    expect(catalog.toolList.map((t) => t.name)).toEqual(['up__t']);
    expect(catalog.promptList).toEqual([]);
    expect(catalog.resourceList.map((r) => r.uri)).toEqual(['switchboard://up/file:///a']);
    expect(catalog.templateList).toEqual([]);
    expect(catalog.tool('starting__t')).toBeUndefined();
  });

  it('maps resource URIs and template URIs under switchboard://<server>/, keeping other fields', () => {
    const catalog = new Catalog([
      upstream('files', {
        resources: [{ uri: 'file:///tmp/a.txt', name: 'a.txt', mimeType: 'text/plain', size: 3 }],
        templates: [{ uriTemplate: 'file:///{path}', name: 'any file', description: 'd' }],
      }),
      upstream('memory', { resources: [{ uri: 'memory://graph', name: 'graph' }] }),
    ]);
    expect(catalog.resourceList).toEqual([
      { uri: 'switchboard://files/file:///tmp/a.txt', name: 'a.txt', mimeType: 'text/plain', size: 3 },
      { uri: 'switchboard://memory/memory://graph', name: 'graph' },
    ]);
    expect(catalog.resources.map((r) => r.server)).toEqual(['files', 'memory']);
    expect(catalog.templateList).toEqual([
      { uriTemplate: 'switchboard://files/file:///{path}', name: 'any file', description: 'd' },
    ]);
  });

  it('classifies tools read-only by annotation, by readOnlyTools, and not when annotations are not trusted', () => {
    const tools = [tool('read_a', { annotations: { readOnlyHint: true } }), tool('list_b'), tool('write_c')];
    const trusted = new Catalog([upstream('fs', { tools }, 'ready', { readOnlyTools: ['list_*'] })]);
    expect(trusted.tools.map((t) => [t.exposed, t.toolClass])).toEqual([
      ['fs__list_b', { readOnly: true, reason: 'readOnlyTools: list_*' }],
      ['fs__read_a', { readOnly: true, reason: 'annotation readOnlyHint' }],
      ['fs__write_c', { readOnly: false, reason: 'not marked read-only' }],
    ]);
    const distrusted = new Catalog([upstream('fs', { tools }, 'ready', { trustAnnotations: false })]);
    expect(distrusted.tool('fs__read_a')?.toolClass).toEqual({
      readOnly: false,
      reason: 'annotation ignored (trustAnnotations: false)',
    });
  });

  it('is empty without upstreams', () => {
    const catalog = new Catalog([]);
    expect(catalog.toolList).toEqual([]);
    expect(catalog.resourceList).toEqual([]);
    expect(catalog.nameReports()).toEqual([]);
  });
});
