import { describe, expect, it } from 'vitest';
import { GlobList, globMatcher } from './glob.js';

describe('GlobList', () => {
  it('matches "*" against any run of characters, including none and underscores', () => {
    const list = new GlobList(['files__*']);
    expect(list.test('files__read_file')).toBe(true);
    expect(list.test('files__')).toBe(true);
    expect(list.test('files__a__b___c')).toBe(true);
    expect(list.test('files_read')).toBe(false);
    expect(list.test('memory__files__read')).toBe(false);
  });

  it('matches "*" in the middle and at the start', () => {
    const list = new GlobList(['*__read_*']);
    expect(list.test('files__read_file')).toBe(true);
    expect(list.test('__read_')).toBe(true);
    expect(list.test('files__write_file')).toBe(false);
    expect(new GlobList(['*']).test('')).toBe(true);
    expect(new GlobList(['*']).test('anything__at_all')).toBe(true);
  });

  it('matches "?" against exactly one character', () => {
    const list = new GlobList(['a?c']);
    expect(list.test('abc')).toBe(true);
    expect(list.test('a_c')).toBe(true);
    expect(list.test('ac')).toBe(false);
    expect(list.test('abbc')).toBe(false);
  });

  it('anchors at both ends', () => {
    const list = new GlobList(['files__read']);
    expect(list.test('files__read')).toBe(true);
    expect(list.test('files__read_file')).toBe(false);
    expect(list.test('xfiles__read')).toBe(false);
  });

  it('treats regex metacharacters in a glob as literal characters', () => {
    const cases: [glob: string, matches: string, misses: string[]][] = [
      ['a.b', 'a.b', ['axb', 'ab']],
      ['x+y', 'x+y', ['xy', 'xxy', 'xxxy']],
      ['files__(1)', 'files__(1)', ['files__1']],
      ['a|b', 'a|b', ['a', 'b']],
      ['[ab]', '[ab]', ['a', 'b']],
      ['^a$', '^a$', ['a']],
      ['a{2}', 'a{2}', ['aa']],
      ['a\\d', 'a\\d', ['a1']],
      ['a/b-c', 'a/b-c', ['a/bc']],
    ];
    for (const [glob, matches, misses] of cases) {
      const list = new GlobList([glob]);
      expect(list.test(matches), `${glob} vs ${matches}`).toBe(true);
      for (const miss of misses) expect(list.test(miss), `${glob} vs ${miss}`).toBe(false);
    }
  });

  it('mixes wildcards with literal metacharacters', () => {
    const list = new GlobList(['files__(?).*']);
    expect(list.test('files__(1).txt')).toBe(true);
    expect(list.test('files__(1).')).toBe(true);
    expect(list.test('files__(12).txt')).toBe(false);
    expect(list.test('files__(1)xtxt')).toBe(false);
  });

  it('names the first matching glob, as written, in list order', () => {
    const list = new GlobList(['memory__*', 'files__write_*', 'files__*', '*']);
    expect(list.which('files__write_file')).toBe('files__write_*');
    expect(list.which('files__read_file')).toBe('files__*');
    expect(list.which('memory__delete')).toBe('memory__*');
    expect(list.which('other')).toBe('*');
    expect(new GlobList(['files__*', 'files__write_*']).which('files__write_file')).toBe('files__*');
  });

  it('returns undefined from which() when nothing matches', () => {
    const list = new GlobList(['files__*', 'a.b']);
    expect(list.which('memory__read')).toBeUndefined();
    expect(list.which('axb')).toBeUndefined();
  });

  it('matches nothing when empty', () => {
    const list = new GlobList([]);
    expect(list.test('')).toBe(false);
    expect(list.test('files__read')).toBe(false);
    expect(list.which('files__read')).toBeUndefined();
  });

  it('keeps the globs as written', () => {
    expect(new GlobList(['a.b', 'c*']).globs).toEqual(['a.b', 'c*']);
  });
});

describe('globMatcher', () => {
  it('follows the same rules as GlobList', () => {
    const match = globMatcher('files__(?)*');
    expect(match('files__(1)')).toBe(true);
    expect(match('files__(1)_more')).toBe(true);
    expect(match('files__1')).toBe(false);
    expect(match('files__()')).toBe(false);
  });
});
