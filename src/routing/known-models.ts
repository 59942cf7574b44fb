/**
 * What the router assumes about well-known models when config says nothing: context
 * window (tokens), and rough 0–1 intelligence and speed tiers for modelPreferences.
 * Matched by the longest prefix of the model name, so dated versions
 * (`claude-sonnet-4-5-20250929`) and suffixes (`gpt-4o-mini`) find their family.
 * Config (`models.targets`) always wins; an unknown model simply has no entry.
 */
export interface KnownModel {
  contextWindow: number;
  intelligence: number;
  speed: number;
}

const TABLE: Record<string, KnownModel> = {
  'claude-opus-4': { contextWindow: 200_000, intelligence: 0.95, speed: 0.3 },
  'claude-sonnet-4': { contextWindow: 200_000, intelligence: 0.85, speed: 0.55 },
  'claude-haiku-4': { contextWindow: 200_000, intelligence: 0.65, speed: 0.85 },
  'claude-3-7-sonnet': { contextWindow: 200_000, intelligence: 0.75, speed: 0.55 },
  'claude-3-5-haiku': { contextWindow: 200_000, intelligence: 0.5, speed: 0.85 },
  'gpt-5': { contextWindow: 400_000, intelligence: 0.9, speed: 0.4 },
  'gpt-5-mini': { contextWindow: 400_000, intelligence: 0.7, speed: 0.7 },
  'gpt-5-nano': { contextWindow: 400_000, intelligence: 0.5, speed: 0.9 },
  'gpt-4.1': { contextWindow: 1_047_576, intelligence: 0.7, speed: 0.6 },
  'gpt-4.1-mini': { contextWindow: 1_047_576, intelligence: 0.55, speed: 0.8 },
  'gpt-4o': { contextWindow: 128_000, intelligence: 0.6, speed: 0.7 },
  'gpt-4o-mini': { contextWindow: 128_000, intelligence: 0.45, speed: 0.85 },
  o3: { contextWindow: 200_000, intelligence: 0.9, speed: 0.3 },
  'o4-mini': { contextWindow: 200_000, intelligence: 0.75, speed: 0.6 },
  'gemini-2.5-pro': { contextWindow: 1_048_576, intelligence: 0.9, speed: 0.45 },
  'gemini-2.5-flash': { contextWindow: 1_048_576, intelligence: 0.7, speed: 0.8 },
  'gemini-2.5-flash-lite': { contextWindow: 1_048_576, intelligence: 0.5, speed: 0.95 },
  'gemini-2.0-flash': { contextWindow: 1_048_576, intelligence: 0.55, speed: 0.85 },
};

const PREFIXES = Object.keys(TABLE).sort((a, b) => b.length - a.length);

export function knownModel(model: string): KnownModel | undefined {
  const name = model.toLowerCase().replace(/^models\//, '');
  const prefix = PREFIXES.find((p) => name === p || name.startsWith(p + '-') || name.startsWith(p + ':'));
  return prefix === undefined ? undefined : TABLE[prefix];
}
