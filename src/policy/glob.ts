/**
 * Globs over exposed names: `*` is any run of characters (including none), `?` one
 * character; everything else is literal. A list of globs compiles to one RegExp, built
 * once per policy version, so a decision never builds a pattern.
 */
function source(glob: string): string {
  let out = '';
  for (const char of glob) {
    if (char === '*') out += '.*';
    else if (char === '?') out += '.';
    else out += char.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return out;
}

export class GlobList {
  private readonly combined: RegExp | undefined;
  private readonly each: readonly { glob: string; re: RegExp }[];

  constructor(readonly globs: readonly string[]) {
    this.each = globs.map((glob) => ({ glob, re: new RegExp(`^${source(glob)}$`, 's') }));
    this.combined = globs.length ? new RegExp(`^(?:${globs.map(source).join('|')})$`, 's') : undefined;
  }

  test(name: string): boolean {
    return this.combined?.test(name) ?? false;
  }

  /** The first glob that matches, to name the rule in a decision. */
  which(name: string): string | undefined {
    if (!this.test(name)) return undefined;
    return this.each.find((g) => g.re.test(name))?.glob;
  }
}

export function globMatcher(glob: string): (name: string) => boolean {
  const re = new RegExp(`^${source(glob)}$`, 's');
  return (name) => re.test(name);
}
