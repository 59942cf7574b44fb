/**
 * `N/window` as written in policy files: `5/1h`, `1000/1d`, `30/90s`, `0.5/1d` (a
 * budget in USD). The window's count may be left out (`10/m` = `10/1m`).
 */
const RATE = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d*)\s*([smhd])\s*$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export interface Rate {
  limit: number;
  windowMs: number;
  /** As written, for messages. */
  text: string;
}

export function parseRate(text: string): Rate | undefined {
  const match = RATE.exec(text);
  if (!match) return undefined;
  const count = match[2] ? Number(match[2]) : 1;
  const windowMs = count * UNIT_MS[match[3] as keyof typeof UNIT_MS];
  if (windowMs <= 0) return undefined;
  return { limit: Number(match[1]), windowMs, text: text.replace(/\s+/g, '') };
}

/** "in 41 s", "in 12 min", "in 3 h" — for refusals. */
export function formatDelay(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.ceil(s / 60)} min`;
  return `${Math.ceil(s / 3600)} h`;
}
