// Scenario 6: the model router. One lean fake provider (OpenAI Chat Completions over
// HTTP on 127.0.0.1, bench/lib/fake-openai.mjs) behind everything; three comparisons,
// each with direct calls to the provider as the baseline and the contenders alternating:
//
//   plain     non-streamed answers, 1 and 32 in flight: direct, Switchboard
//             (`switchboard__sample` over stdio, audit on), Portkey.
//   streamed  time to the first token, 1 and 32 in flight: direct and Portkey read the
//             SSE stream (the figure is the time to the first chunk carrying text);
//             Switchboard's is the time to the tool result, since an MCP tool returns
//             its result whole and the gateway sends no per-token progress.
//   failover  a route whose first target answers 503 and whose second answers, beside
//             a route with the healthy target alone, for Switchboard and for Portkey
//             (a fallback config), 1 in flight. The cost of a failover is the
//             difference of the two medians of one gateway.
import { compare } from '../lib/compare.mjs';
import { directProvider, fakeProvider, portkeyGateway, switchboardRouter } from '../lib/router-contenders.mjs';

export async function run({ params, log }) {
  const provider = await fakeProvider();
  const closers = [provider.close];
  const skipped = [];
  let portkey;
  try {
    const switchboard = await switchboardRouter(provider);
    closers.unshift(switchboard.close);
    log('  Switchboard: ready (switchboard__sample, routes plain and failover)');
    if (params.peers) {
      try {
        portkey = await portkeyGateway(provider, { readyTimeoutMs: params.peerReadyTimeoutMs });
        closers.unshift(portkey.close);
        log('  Portkey: ready');
        if (portkey.streamError) {
          skipped.push({ key: 'portkey-stream', reason: portkey.streamError });
          log(`  Portkey, streamed: left out: ${portkey.streamError}`);
        }
      } catch (error) {
        skipped.push({ key: 'portkey', reason: String(error.message ?? error) });
        log(`  Portkey: could not be started: ${error.message ?? error}`);
      }
    }
    const keyed = (key, target) => Object.assign(target, { key });
    const group = async (title, targets, inflights) => {
      log(`  ${title}`);
      const results = await compare({
        targets,
        inflights,
        runMs: params.runMs,
        rounds: params.rounds,
        warmupMs: params.warmupMs,
        warmupCalls: Math.min(params.warmupCalls, 5000),
        log,
      });
      return { contenders: targets.map((t) => ({ key: t.key, name: t.name, tool: t.tool })), results };
    };

    const plain = await group(
      'plain (non-streamed)',
      [
        keyed('direct', directProvider(provider, { name: 'direct', mode: 'plain' })),
        keyed('switchboard', switchboard.target('Switchboard (switchboard__sample)', 'plain')),
        ...(portkey ? [keyed('portkey', portkey.plain())] : []),
      ],
      [1, 32],
    );
    const streamed = await group(
      'streamed (time to first token)',
      [
        keyed('direct', directProvider(provider, { name: 'direct (first token)', mode: 'stream' })),
        keyed('switchboard', switchboard.target('Switchboard (whole tool result)', 'plain')),
        ...(portkey && !portkey.streamError ? [keyed('portkey', portkey.stream())] : []),
      ],
      [1, 32],
    );
    const failover = await group(
      'failover (first target 503, second ok)',
      [
        keyed('direct', directProvider(provider, { name: 'direct', mode: 'plain' })),
        keyed('switchboard', switchboard.target('Switchboard, one healthy target', 'plain')),
        keyed('switchboard-failover', switchboard.target('Switchboard, 503 then ok', 'failover')),
        ...(portkey ? [keyed('portkey', portkey.plain()), keyed('portkey-failover', portkey.failover())] : []),
      ],
      [1],
    );
    return {
      provider: 'bench/lib/fake-openai.mjs (OpenAI Chat Completions, 127.0.0.1)',
      switchboardStreaming:
        'switchboard__sample returns its result whole (no per-token progress): its streamed figure is the time to the tool result',
      skipped,
      plain,
      streamed,
      failover,
    };
  } finally {
    for (const close of closers) await close();
  }
}
