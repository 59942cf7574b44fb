import { createHash } from 'node:crypto';

/** What clients enforce on tool and prompt names. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_NAME_LENGTH = 64;
const SEPARATOR = '__';
const HASH_LENGTH = 8;

/** A short, stable hash: the same input gives the same suffix on every machine and restart. */
export function shortHash(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * The exposed name `<server>__<name>` made valid: characters outside `[A-Za-z0-9_-]`
 * become `_`, and a name over 64 characters is cut and ends in `_` plus a hash of the
 * full original, so two long names that share a prefix stay apart.
 */
export function exposedName(server: string, name: string): { name: string; shortened: boolean } {
  const full = `${server}${SEPARATOR}${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (full.length <= MAX_NAME_LENGTH && name.length > 0) return { name: full, shortened: false };
  const suffix = `_${shortHash(`${server}\u0000${name}`)}`;
  return { name: full.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix, shortened: true };
}

/** The suffixed name given to the second and later members of a collision. */
export function disambiguate(server: string, name: string, taken: (candidate: string) => boolean): string {
  const suffix = `_${shortHash(`${server}\u0000${name}\u0000collision`)}`;
  const base = exposedName(server, name).name;
  let candidate = base.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
  for (let n = 2; taken(candidate); n++) {
    const counter = `${suffix}${n}`;
    candidate = base.slice(0, MAX_NAME_LENGTH - counter.length) + counter;
  }
  return candidate;
}

/** `server` and the part after the first `__`, or undefined for a name that has no prefix. */
export function splitExposed(name: string): { server: string; rest: string } | undefined {
  const at = name.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  return { server: name.slice(0, at), rest: name.slice(at + SEPARATOR.length) };
}
