// Reading V8 CPU profiles (`node --cpu-prof`): self time per function, with positions in
// dist/ mapped back to src/*.ts through the compiler's source maps, and self time per
// area (Switchboard's own code, the MCP SDK, zod, SQLite, Node internals, GC).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const maps = new Map();
function sourceMapFor(file) {
  if (!maps.has(file)) {
    let map;
    try {
      if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

/** `src/server/call-tool.ts:42` for dist code, `node_modules/…:line` otherwise (1-based lines). */
function position(frame, root) {
  const { url, lineNumber, columnNumber } = frame;
  if (!url) return '';
  if (!url.startsWith('file://')) return `${url}:${lineNumber + 1}`;
  const file = fileURLToPath(url);
  // node_modules is a link from the gateway's copy to the repository's own: name it from there.
  if (!file.startsWith(root) && file.includes(`${path.sep}node_modules${path.sep}`)) {
    return `${file.slice(file.indexOf(`node_modules${path.sep}`))}:${lineNumber + 1}`;
  }
  const map = file.startsWith(path.join(root, 'dist')) ? sourceMapFor(file) : undefined;
  const entry = map?.findEntry(lineNumber, columnNumber);
  if (entry && entry.originalSource) {
    const source = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : path.resolve(path.dirname(file), entry.originalSource);
    return `${path.relative(root, source)}:${entry.originalLine + 1}`;
  }
  return `${path.relative(root, file)}:${lineNumber + 1}`;
}

function area(frame, root) {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)') return functionName;
  if (!url) return 'native / V8 builtins';
  if (url.startsWith('node:')) return 'Node internals';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.relative(root, file);
  if (rel.startsWith('dist')) return 'Switchboard (src/)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel)?.[1];
  return pkg ?? rel;
}

/** Self time per function, per file and per area, and inclusive time of Switchboard's functions. */
export function analyseProfiles(dir, root, top = 25) {
  const byFunction = new Map();
  const byFile = new Map();
  const byArea = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < profile.samples.length; i++) add(self, profile.samples[i], profile.timeDeltas[i] ?? 0);
    const keyOf = new Map();
    for (const node of profile.nodes) {
      const frame = node.callFrame;
      const where = position(frame, root);
      keyOf.set(node.id, { key: `${frame.functionName || '(anonymous)'}\u0000${where}`, where, frame });
    }
    for (const [id, us] of self) {
      const { key, where, frame } = keyOf.get(id);
      if (frame.functionName === '(idle)') {
        idle += us;
        continue;
      }
      total += us;
      add(byFunction, key, us);
      add(byFile, where.replace(/:\d+$/, '') || frame.functionName, us);
      add(byArea, area(frame, root), us);
    }
    // Inclusive time of each of Switchboard's own functions (recursion counted once).
    const totals = new Map();
    const order = [];
    const stack = [profile.nodes[0].id];
    while (stack.length) {
      const id = stack.pop();
      order.push(id);
      for (const child of nodes.get(id).children ?? []) stack.push(child);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const id = order[i];
      const { frame } = keyOf.get(id);
      let t = frame.functionName === '(idle)' ? 0 : (self.get(id) ?? 0);
      for (const child of nodes.get(id).children ?? []) t += totals.get(child) ?? 0;
      totals.set(id, t);
    }
    const onStack = new Map();
    const walk = [[profile.nodes[0].id, false]];
    while (walk.length) {
      const [id, leaving] = walk.pop();
      const { key, where } = keyOf.get(id);
      const ours = where.startsWith('src/');
      if (leaving) {
        if (ours) onStack.set(key, onStack.get(key) - 1);
        continue;
      }
      if (ours) {
        if (!onStack.get(key)) add(inclusive, key, totals.get(id));
        onStack.set(key, (onStack.get(key) ?? 0) + 1);
      }
      walk.push([id, true]);
      for (const child of nodes.get(id).children ?? []) walk.push([child, false]);
    }
  }
  const ranked = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  const fn = ([key, us]) => {
    const [name, where] = key.split('\u0000');
    return { function: name, where, ms: us / 1000, share: us / total };
  };
  return {
    busyMs: total / 1000,
    idleMs: idle / 1000,
    functions: ranked(byFunction, top).map(fn),
    files: ranked(byFile, 15).map(([file, us]) => ({ file, selfMs: us / 1000, share: us / total })),
    areas: ranked(byArea, 20).map(([name, us]) => ({ area: name, selfMs: us / 1000, share: us / total })),
    inclusive: ranked(inclusive, 20).map(fn),
  };
}
