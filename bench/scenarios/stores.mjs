// Scenario 5: the audit writer (rows per second with group commit, beside one commit
// per statement) and, alongside, the quota store's cost per call as its window fills.
// Both are driven from dist/ in a process of their own (lib/store-writers.mjs). The
// latency auditing adds to a call comes from scenario 1 (audit only vs both off).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BENCH, gateway, runDir } from '../lib/contenders.mjs';

export async function run({ params, log }) {
  const dir = path.join(runDir(), 'stores');
  mkdirSync(dir, { recursive: true });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(BENCH, 'lib', 'store-writers.mjs'),
      gateway.root,
      dir,
      String(params.auditRows),
      String(params.quotaTakes),
    ],
    { maxBuffer: 16 * 1048576 },
  );
  const out = JSON.parse(stdout);
  for (const a of out.audit) {
    log(
      `  audit, ${a.concurrency} in flight: ${a.rowsPerSecond.toFixed(0)} rows/s, ${a.opsPerCommit.toFixed(1)} writes per commit`,
    );
  }
  log(`  one commit per statement: ${out.naive.rowsPerSecond.toFixed(0)} rows/s`);
  return out;
}
