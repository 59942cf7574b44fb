// The young generation (V8's new space) while the gateway starts.
//
// V8 grows the new space (two semi-spaces, up to 16 MB each on 64-bit) whenever much of
// it survives a scavenge. Loading the SDK, zod and our modules is exactly that: ~30 MB
// of objects that all live, so by the time the gateway serves, the new space has grown
// to its maximum and stays resident (~15 MB of RSS) until V8's memory reducer notices
// the process is idle, 15 to 30 s later. A gateway per client app (the stdio case) pays
// that for nothing.
//
// So the CLI starts with a growth factor of 1 (the new space keeps its initial 1 MB and
// startup objects are promoted straight away, at no measurable cost in startup time),
// and `serve` puts V8's default back once the upstreams are connected (`dashboard` once
// it listens): from then on the new space grows under load as it always does. Any other
// command gets it back after STARTUP_MS at the latest (`audit list --follow` runs on);
// one-shot commands (audit queries, check) are over long before. With 10 stdio upstreams,
// idle RSS 3 s after startup went 89 → 78 MB (stdio) and 98 → 88 MB (HTTP) in the
// benchmark's memory scenario; startup time and CPU, and the cost per call, unchanged.
//
// `semi_space_growth_factor` is read each time the new space grows, so changing it at
// run time takes effect (Node turns V8's flag freezing off, for v8.setFlagsFromString);
// checked on Node 20, 22 and 24 (src/heap.test.ts). Anyone who sizes the young
// generation themselves (a semi-space flag in NODE_OPTIONS or on the command line) is
// left alone.
import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const V8_DEFAULT_GROWTH = 2;

/** The hold ends by itself after this long, whatever the command. */
const STARTUP_MS = 10_000;

let held = false;

function userSizesYoungGeneration(): boolean {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  return /semi[-_]space/.test(flags);
}

/** Keeps the new space at its initial size; call before loading the bulk of the modules. */
export function holdYoungGeneration(): void {
  if (held || userSizesYoungGeneration()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
  setTimeout(releaseYoungGeneration, STARTUP_MS).unref();
}

/** Lets the new space grow again (V8's default). Does nothing unless it was held. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  held = false;
}
