import { describe, expect, it } from 'vitest';
import { disambiguate, exposedName, shortHash, splitExposed } from './names.js';

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

describe('shortHash', () => {
  it('is 8 lowercase hex characters and the same for the same input', () => {
    expect(shortHash('files\u0000read')).toMatch(/^[0-9a-f]{8}$/);
    expect(shortHash('files\u0000read')).toBe(shortHash('files\u0000read'));
  });

  it('differs for different inputs', () => {
    expect(shortHash('a')).not.toBe(shortHash('b'));
  });
});

describe('exposedName', () => {
  it('joins server and name with "__" when the result is already valid', () => {
    expect(exposedName('files', 'read_file')).toEqual({ name: 'files__read_file', shortened: false });
    expect(exposedName('my-server', 'get-Thing9')).toEqual({ name: 'my-server__get-Thing9', shortened: false });
  });

  it('turns every character outside [A-Za-z0-9_-] into "_"', () => {
    expect(exposedName('files', 'read.file')).toEqual({ name: 'files__read_file', shortened: false });
    expect(exposedName('files', 'a b/c:d@é')).toEqual({ name: 'files__a_b_c_d__', shortened: false });
  });

  it('keeps a name of exactly 64 characters whole', () => {
    const name = 'x'.repeat(64 - 'files__'.length);
    const result = exposedName('files', name);
    expect(result).toEqual({ name: `files__${name}`, shortened: false });
    expect(result.name).toHaveLength(64);
  });

  it('cuts a name over 64 characters to 64, ending in "_" and 8 hex characters', () => {
    const name = 'y'.repeat(64 - 'files__'.length + 1);
    const result = exposedName('files', name);
    expect(result.shortened).toBe(true);
    expect(result.name).toHaveLength(64);
    expect(result.name).toMatch(/^files__y+_[0-9a-f]{8}$/);
    expect(result.name).toMatch(VALID);
  });

  it('gives the same result for the same input every time', () => {
    const long = 'search_'.repeat(20);
    expect(exposedName('web', long)).toEqual(exposedName('web', long));
    expect(exposedName('web', 'a.b')).toEqual(exposedName('web', 'a.b'));
  });

  it('keeps apart two long names that share a 70-character prefix', () => {
    const prefix = 'p'.repeat(70);
    const a = exposedName('srv', `${prefix}_alpha`);
    const b = exposedName('srv', `${prefix}_beta`);
    expect(a.name).not.toBe(b.name);
    expect(a.name).toMatch(VALID);
    expect(b.name).toMatch(VALID);
  });

  it('gives an empty tool name a valid, hashed name', () => {
    const result = exposedName('srv', '');
    expect(result.shortened).toBe(true);
    expect(result.name).toMatch(VALID);
    expect(result.name).toMatch(/^srv___[0-9a-f]{8}$/);
  });

  it('always yields a valid name', () => {
    const names = ['read_file', 'a.b.c', 'x'.repeat(200), 'ünïcødé', '😀', ' ', '', 'tool/with/slashes', '-'];
    for (const name of names) {
      expect(exposedName('server-1', name).name, name).toMatch(VALID);
    }
  });
});

describe('disambiguate', () => {
  it('returns a valid name different from the plain one, ending in "_" and 8 hex characters', () => {
    const plain = exposedName('files', 'read_file').name;
    const name = disambiguate('files', 'read_file', (c) => c === plain);
    expect(name).not.toBe(plain);
    expect(name).toMatch(/^files__read_file_[0-9a-f]{8}$/);
  });

  it('is deterministic', () => {
    const taken = () => false;
    expect(disambiguate('files', 'read.file', taken)).toBe(disambiguate('files', 'read.file', taken));
  });

  it('avoids every taken name', () => {
    const first = disambiguate('files', 'read_file', () => false);
    const takenSet = new Set([first]);
    const second = disambiguate('files', 'read_file', (c) => takenSet.has(c));
    expect(second).not.toBe(first);
    expect(second).toMatch(VALID);

    takenSet.add(second);
    const third = disambiguate('files', 'read_file', (c) => takenSet.has(c));
    expect(takenSet.has(third)).toBe(false);
    expect(third).toMatch(VALID);
  });

  it('stays within 64 characters for a long name', () => {
    const long = 'z'.repeat(120);
    const takenSet = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const name = disambiguate('srv', long, (c) => takenSet.has(c));
      expect(name).toMatch(VALID);
      expect(takenSet.has(name)).toBe(false);
      takenSet.add(name);
    }
  });
});

describe('splitExposed', () => {
  it('splits at the first "__"', () => {
    expect(splitExposed('files__read_file')).toEqual({ server: 'files', rest: 'read_file' });
    expect(splitExposed('files__a__b')).toEqual({ server: 'files', rest: 'a__b' });
  });

  it('returns undefined when there is no server prefix', () => {
    expect(splitExposed('read_file')).toBeUndefined();
    expect(splitExposed('__read_file')).toBeUndefined();
  });

  it('inverts exposedName for a short, valid name', () => {
    const { name } = exposedName('memory', 'create_entities');
    expect(splitExposed(name)).toEqual({ server: 'memory', rest: 'create_entities' });
  });
});
