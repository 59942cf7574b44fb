// ─────────────────────────────────────────────────────────────────────────────────────
// Scenario 6: the model router — RESERVED. It lands with the model router (issue 5).
//
// What goes here (issue 7): `switchboard__sample` vs calling the fake provider
// directly, plain and streamed (time to first token), 1 and 32 in flight; the cost of
// a failover (first target answers 503); the Portkey gateway (npm @portkey-ai/gateway,
// installed into bench/package.json) in front of the same fake provider as a peer.
// Use compare() from ../lib/compare.mjs with the fake provider as targets[0], return
// the same shape as the other scenarios, and add the goal row "router added p50, plain
// / time to first token, streamed" in ../lib/report.mjs (look for "Scenario 6").
// ─────────────────────────────────────────────────────────────────────────────────────

export async function run() {
  return { skipped: 'the model router (issue 5) has not landed yet; this scenario is reserved for it' };
}
