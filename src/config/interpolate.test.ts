import { describe, expect, it } from 'vitest';
import { interpolate, type InterpolationIssue } from './interpolate.js';

function run(value: unknown, env: NodeJS.ProcessEnv): { value: unknown; issues: InterpolationIssue[] } {
  const issues: InterpolationIssue[] = [];
  return { value: interpolate(value, env, issues), issues };
}

describe('interpolate', () => {
  it('replaces ${VAR} with the variable', () => {
    expect(run('Bearer ${TOKEN}', { TOKEN: 'abc' })).toEqual({ value: 'Bearer abc', issues: [] });
  });

  it('replaces several variables in one string', () => {
    expect(run('${HOST}:${PORT}/${HOST}', { HOST: 'h', PORT: '1' }).value).toBe('h:1/h');
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty', () => {
    expect(run('${PORT:-7800}', {})).toEqual({ value: '7800', issues: [] });
    expect(run('${PORT:-7800}', { PORT: '' })).toEqual({ value: '7800', issues: [] });
    expect(run('${PORT:-7800}', { PORT: '9000' })).toEqual({ value: '9000', issues: [] });
    expect(run('x${EMPTY:-}y', {})).toEqual({ value: 'xy', issues: [] });
  });

  it('reports an unset variable with its path, and suggests a default', () => {
    const { issues } = run({ mcpServers: { gh: { env: { TOKEN: '${GH_TOKEN}' } } } }, {});
    expect(issues).toEqual([
      {
        path: ['mcpServers', 'gh', 'env', 'TOKEN'],
        message: 'environment variable GH_TOKEN is not set (write ${GH_TOKEN:-default} for a default)',
      },
    ]);
  });

  it('collects every unset variable rather than stopping at the first', () => {
    const { issues } = run({ args: ['${A}', 'ok', '${B}-${C}'] }, {});
    expect(issues.map((i) => [i.path, i.message.split(' ')[2]])).toEqual([
      [['args', 0], 'A'],
      [['args', 2], 'B'],
      [['args', 2], 'C'],
    ]);
  });

  it('walks arrays and objects and leaves non-strings alone', () => {
    const input = { a: [1, true, null, '${X}'], b: { c: 2.5, d: '${X}' }, e: 'plain' };
    expect(run(input, { X: 'x' }).value).toEqual({ a: [1, true, null, 'x'], b: { c: 2.5, d: 'x' }, e: 'plain' });
  });

  it('does not expand variables inside a substituted value', () => {
    expect(run('${A}', { A: '${B}', B: 'secret' }).value).toBe('${B}');
  });

  it('leaves text that is not a variable reference untouched', () => {
    expect(run('$HOME ${ not a var} ${1X} $', { HOME: '/h' })).toEqual({
      value: '$HOME ${ not a var} ${1X} $',
      issues: [],
    });
  });
});
