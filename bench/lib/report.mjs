// Markdown for a benchmark run: the goals of issue 7 with the values measured and the
// references measured in the same run, then one table per scenario. Every figure is
// the median over the measured rounds, with the lowest and highest round in brackets.

const fix = (digits) => (v) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const ms3 = fix(3);
const ms2 = fix(2);
const one = fix(1);
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : '–');
const signed = (f) => (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${f(v)}` : '–');

/** "median (min–max)" of a summary. */
function spread(s, f) {
  if (!s || !Number.isFinite(s.median)) return '–';
  if (s.n <= 1 || f(s.min) === f(s.max)) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function rowOf(results, inflight, key) {
  return results?.find((r) => r.inflight === inflight)?.rows.find((r) => r.key === key || r.name === key);
}

/** Scenario results carry rows by contender name; give them their keys. */
function keyed(scenario) {
  if (!scenario?.results) return scenario;
  const byName = new Map(scenario.contenders.map((c) => [c.name, c.key]));
  for (const level of scenario.results) for (const row of level.rows) row.key ??= byName.get(row.name);
  return scenario;
}

function loadTable(scenario, { baseline = 'direct' } = {}) {
  const parts = [];
  for (const level of scenario.results) {
    const r0 = level.rows[0];
    parts.push(
      `**${level.inflight} in flight** (${r0.rounds} rounds of ${one(r0.runMs / 1000)} s per contender, after a warm-up and a discarded warm-up round)`,
    );
    parts.push('');
    parts.push(
      table(
        [
          'contender',
          'p50 ms',
          'p99 ms',
          `added p50 ms`,
          `added p99 ms`,
          'calls/s',
          `share of ${baseline}`,
          'gateway CPU µs/call',
          'gateway RSS MB',
          'errors',
        ],
        level.rows.map((r) => {
          const base = r.key === 'direct';
          return [
            r.name,
            spread(r.p50, ms3),
            spread(r.p99, ms2),
            base ? '—' : spread(r.addedP50, signed(ms3)),
            base ? '—' : spread(r.addedP99, signed(ms2)),
            spread(r.throughput, int),
            base ? '—' : spread(r.throughputShare, pct),
            base ? '—' : spread(r.gatewayCpuUsPerCall, one),
            base ? '—' : spread(r.rssMB, one),
            String(r.errors),
          ];
        }),
      ),
    );
    const direct = level.rows.find((r) => r.key === 'direct');
    const others = level.rows.filter((r) => r !== direct);
    const range = (rows, pick, f) => {
      const values = rows.map(pick).filter(Number.isFinite);
      return values.length ? `${f(Math.min(...values))}–${f(Math.max(...values))}` : '–';
    };
    const upstream = range(level.rows, (r) => r.upstreamCpuUsPerCall.median, one);
    parts.push('');
    parts.push(
      'Load generator: ' +
        (direct
          ? `${one(direct.clientCpuUsPerCall.median)} µs CPU per call against direct (${pct(direct.clientCpuShare.median)} of one core), `
          : '') +
        `${range(others, (r) => r.clientCpuUsPerCall.median, one)} µs against the others ` +
        `(${range(others, (r) => r.clientCpuShare.median, pct)} of one core). Upstream: ${upstream} µs CPU per call.`,
    );
    parts.push('');
  }
  return parts.join('\n');
}

/** Scenario 6: the plain and streamed tables, then the cost of a failover per gateway. */
function routerSection(r6) {
  const out = ['### 6. Model router', ''];
  out.push(
    `Fake provider: ${r6.provider}. Switchboard: \`switchboard__sample\` over stdio with the lean client, audit on, ` +
      'a policy naming the routes. Direct and Portkey: the same lean HTTP client (undici, keep-alive).',
  );
  out.push('');
  for (const s of r6.skipped ?? []) out.push(`Not run: ${s.key}: ${s.reason}`, '');
  out.push('#### Plain (non-streamed) answers', '');
  out.push(loadTable(keyed(r6.plain)));
  out.push('#### Streamed: time to the first token', '');
  out.push(
    `Direct and Portkey: time to the first SSE chunk carrying text. Switchboard: ${r6.switchboardStreaming}. ` +
      'The fake provider sends its whole stream at once, so for it the first token and the last are microseconds apart.',
  );
  out.push('');
  out.push(loadTable(keyed(r6.streamed)));
  const f = keyed(r6.failover);
  const level = f.results.find((l) => l.inflight === 1);
  if (level) {
    const row = (key) => level.rows.find((r) => r.key === key);
    const cost = (healthy, failing) => {
      if (!healthy || !failing) return undefined;
      const paired = failing.raw.map((r, k) => r.p50 - (healthy.raw[k]?.p50 ?? NaN)).filter(Number.isFinite);
      const sorted = [...paired].sort((a, b) => a - b);
      if (sorted.length === 0) return undefined;
      const mid = sorted.length >> 1;
      const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
    };
    out.push('#### Failover: first target answers 503, the second answers (1 in flight)', '');
    out.push(
      'Circuit breakers are set never to open, so that every call pays the failed round trip. ' +
        'Cost of a failover = p50 of the failing route minus p50 of the one-target route, paired by round. ' +
        `Direct call to the healthy model: ${spread(row('direct')?.p50, ms3)} ms.`,
    );
    out.push('');
    const gateways = [
      ['Switchboard', row('switchboard'), row('switchboard-failover')],
      ['Portkey', row('portkey'), row('portkey-failover')],
    ].filter(([, a, b]) => a && b);
    out.push(
      table(
        [
          'gateway',
          'one healthy target, p50 ms',
          '503 then ok, p50 ms',
          'cost of the failover, ms',
          'p99 ms (503 then ok)',
          'errors',
        ],
        gateways.map(([name, a, b]) => [
          name,
          spread(a.p50, ms3),
          spread(b.p50, ms3),
          spread(cost(a, b), signed(ms3)),
          spread(b.p99, ms2),
          String(a.errors + b.errors),
        ]),
      ),
    );
    out.push('');
  }
  return out.join('\n');
}

function peerFanout(peer, row) {
  if (!peer) return undefined;
  if (peer.error) return `mcp-hub: ${peer.error}`;
  const waited = peer.waitedMs !== undefined ? `not within ${int(peer.waitedMs / 1000)} s` : 'never';
  const full = peer.fullListMs !== undefined ? `${int(peer.fullListMs)} ms` : waited;
  const ready = peer.readyMs !== undefined ? `${int(peer.readyMs)} ms` : waited;
  if (peer.fullListMs === undefined) {
    return `mcp-hub (same 20, one hung): tools/list answered ${peer.firstCount ?? 0} tools, complete list ${full}, ready ${ready}`;
  }
  const steady = row ? `, then tools/list ${spread(row.p50, ms2)} ms` : '';
  return `mcp-hub (same 20, one hung): complete list after ${full}, ready after ${ready}${steady}`;
}

function goalRows(run) {
  const s = keyed(run.scenarios.stdio);
  const sdkUpstream = keyed(run.scenarios.stdioSdkUpstream);
  const h = keyed(run.scenarios.http);
  const f = keyed(run.scenarios.fanout);
  const m = run.scenarios.memory;
  const rows = [];
  const refs = (list) => list.filter(Boolean).join('; ') || '–';
  const ref = (label, row, pick, f2) => (row ? `${label} ${spread(pick(row), f2)}` : undefined);

  if (s?.results) {
    const sb = rowOf(s.results, 1, 'switchboard');
    const v = sb?.addedP50.median;
    rows.push([
      'added p50, stdio, 1 in flight, policy + audit on',
      '≤ 0.10 ms',
      spread(sb?.addedP50, signed(ms3)),
      refs([
        ref('raw relay', rowOf(s.results, 1, 'relay'), (r) => r.addedP50, signed(ms3)),
        ref('bare SDK proxy', rowOf(s.results, 1, 'sdk-proxy'), (r) => r.addedP50, signed(ms3)),
        ref('Switchboard, policy + audit off', rowOf(s.results, 1, 'switchboard-off'), (r) => r.addedP50, signed(ms3)),
      ]),
      v <= 0.1 ? 'met' : 'not met',
    ]);
    const sb32 = rowOf(s.results, 32, 'switchboard');
    rows.push([
      'throughput at 32 in flight, stdio, share of direct',
      '≥ 70 %',
      spread(sb32?.throughputShare, pct),
      refs([
        ref('raw relay', rowOf(s.results, 32, 'relay'), (r) => r.throughputShare, pct),
        ref('bare SDK proxy', rowOf(s.results, 32, 'sdk-proxy'), (r) => r.throughputShare, pct),
        ref(
          'direct',
          rowOf(s.results, 32, 'direct'),
          (r) => r.throughput,
          (x) => `${int(x)} calls/s`,
        ),
        sdkUpstream?.results &&
          `behind an SDK-built upstream (1b): Switchboard ${spread(rowOf(sdkUpstream.results, 32, 'switchboard')?.throughputShare, pct)}, ` +
            `bare SDK proxy ${spread(rowOf(sdkUpstream.results, 32, 'sdk-proxy')?.throughputShare, pct)}, ` +
            `raw relay ${spread(rowOf(sdkUpstream.results, 32, 'relay')?.throughputShare, pct)}`,
      ]),
      sb32?.throughputShare.median >= 0.7 ? 'met' : 'not met',
    ]);
    rows.push([
      'gateway CPU per call, stdio (32 in flight; 1 in flight after the slash)',
      '≤ 25 µs',
      `${spread(sb32?.gatewayCpuUsPerCall, one)} / ${spread(sb?.gatewayCpuUsPerCall, one)}`,
      refs(
        ['relay', 'sdk-proxy'].map((k) => {
          const a = rowOf(s.results, 32, k);
          const b = rowOf(s.results, 1, k);
          return a && `${a.name} ${spread(a.gatewayCpuUsPerCall, one)} / ${spread(b?.gatewayCpuUsPerCall, one)}`;
        }),
      ),
      sb32?.gatewayCpuUsPerCall.median <= 25 ? 'met' : 'not met',
    ]);
  }
  if (h?.results) {
    const sb = rowOf(h.results, 1, 'switchboard');
    rows.push([
      'added p50, streamable HTTP, 1 in flight (lean load client)',
      '≤ 0.10 ms',
      spread(sb?.addedP50, signed(ms3)),
      refs([
        ref('raw HTTP relay', rowOf(h.results, 1, 'relay'), (r) => r.addedP50, signed(ms3)),
        ref('bare SDK proxy', rowOf(h.results, 1, 'sdk-proxy'), (r) => r.addedP50, signed(ms3)),
        ref('mcp-hub (SSE)', rowOf(h.results, 1, 'mcp-hub'), (r) => r.addedP50, signed(ms3)),
      ]),
      sb?.addedP50.median <= 0.1 ? 'met' : 'not met',
    ]);
    const sb32 = rowOf(h.results, 32, 'switchboard');
    rows.push([
      'throughput at 32 in flight, HTTP, share of direct',
      '≥ 80 %',
      spread(sb32?.throughputShare, pct),
      refs([
        ref('raw HTTP relay', rowOf(h.results, 32, 'relay'), (r) => r.throughputShare, pct),
        ref('bare SDK proxy', rowOf(h.results, 32, 'sdk-proxy'), (r) => r.throughputShare, pct),
        ref('mcp-hub (SSE)', rowOf(h.results, 32, 'mcp-hub'), (r) => r.throughputShare, pct),
        ref(
          'direct',
          rowOf(h.results, 32, 'direct'),
          (r) => r.throughput,
          (x) => `${int(x)} calls/s`,
        ),
      ]),
      sb32?.throughputShare.median >= 0.8 ? 'met' : 'not met',
    ]);
  }
  if (f?.results) {
    const hung = rowOf(f.results, 1, 'switchboard-hung');
    const first = f.startup?.hung?.map((x) => x.ms) ?? [];
    rows.push([
      'tools/list over 20 upstreams, one hung',
      'p50 ≤ 5 ms',
      `${spread(hung?.p50, ms2)} ms (first list after start: ${first.map((x) => int(x)).join(', ')} ms)`,
      refs([
        ref(
          'warm, none hung',
          rowOf(f.results, 1, 'switchboard-warm'),
          (r) => r.p50,
          (x) => `${ms2(x)} ms`,
        ),
        ref(
          'one upstream direct',
          rowOf(f.results, 1, 'direct'),
          (r) => r.p50,
          (x) => `${ms2(x)} ms`,
        ),
        peerFanout(f.peer, rowOf(f.results, 1, 'mcp-hub-hung')),
      ]),
      hung?.p50.median <= 5 ? 'met' : 'not met',
    ]);
  }
  // Scenario 6 (model router): Switchboard's added p50 at 1 in flight, plain and streamed.
  const r6 = run.scenarios.router;
  if (r6?.plain?.results) {
    const plain = rowOf(keyed(r6.plain).results, 1, 'switchboard');
    const streamed = rowOf(keyed(r6.streamed).results, 1, 'switchboard');
    const peerPlain = rowOf(r6.plain.results, 1, 'portkey');
    const peerStreamed = rowOf(r6.streamed.results, 1, 'portkey');
    rows.push([
      'router added p50, plain / time to first token, streamed (1 in flight)',
      '≤ 0.2 ms / ≤ 0.5 ms',
      `${spread(plain?.addedP50, signed(ms3))} / ${spread(streamed?.addedP50, signed(ms3))} ms (streamed: to the whole tool result)`,
      peerPlain
        ? `Portkey ${spread(peerPlain.addedP50, signed(ms3))} / ` +
          (peerStreamed
            ? `${spread(peerStreamed.addedP50, signed(ms3))} ms (to the first token)`
            : 'its streamed requests failed (see scenario 6)')
        : `Portkey not measured${r6.skipped?.length ? `: ${r6.skipped.map((x) => x.reason).join('; ')}` : ''}`,
      plain?.addedP50.median <= 0.2 && streamed?.addedP50.median <= 0.5 ? 'met' : 'not met',
    ]);
  } else {
    rows.push([
      'router added p50, plain / time to first token, streamed',
      '≤ 0.2 ms / ≤ 0.5 ms',
      r6?.error ? `failed: ${r6.error}` : 'not measured in this run',
      '–',
      '–',
    ]);
  }
  if (m && !m.error) {
    rows.push([
      'idle RSS, 10 upstreams, children excluded',
      '≤ 70 MB',
      `${one(m.switchboardHttpIdleMB)} MB over HTTP, ${one(m.switchboardStdioIdleMB)} MB over stdio`,
      refs([
        `idle \`node\` ${one(m.nodeFloorMB)} MB`,
        `bare SDK proxy ${one(m.sdkProxyIdleMB)} MB`,
        m.mcpHubIdleMB !== undefined
          ? `mcp-hub ${one(m.mcpHubIdleMB)} MB`
          : m.mcpHubError && `mcp-hub: ${m.mcpHubError}`,
      ]),
      Math.max(m.switchboardHttpIdleMB, m.switchboardStdioIdleMB) <= 70 ? 'met' : 'not met',
    ]);
  }
  return rows;
}

export function renderResults(run) {
  const out = [];
  const { machine } = run;
  out.push(
    `Measured ${run.finishedAt.slice(0, 16).replace('T', ' ')} UTC with \`${run.command}\` ` +
      `(${run.mode}, ${one(run.durationS / 60)} min) on ${machine.cores} cores (${machine.cpu}), ` +
      `${one(machine.memoryGiB)} GiB, Linux ${machine.kernel}, Node ${machine.node}; ` +
      `Switchboard at ${machine.commit}. Load average at the start: ${machine.loadAverage.map(ms2).join(', ')} ` +
      `(the machine is shared: medians over alternating rounds are what to read). Raw data: \`${run.resultsFile}\`.`,
  );
  out.push('');
  out.push('### Goals (issue 7)');
  out.push('');
  out.push(table(['figure', 'goal', 'Switchboard, this run', 'references, same run', ''], goalRows(run)));
  out.push('');
  const met = goalRows(run).filter((r) => r[4] === 'met').length;
  const measured = goalRows(run).filter((r) => r[4] !== '–').length;
  out.push(`${met} of ${measured} measured goals met.`);
  out.push('');

  const s = keyed(run.scenarios.stdio);
  if (s?.results) {
    out.push('### 1. stdio → stdio');
    out.push('');
    out.push(loadTable(s));
  } else if (s?.error) out.push(`### 1. stdio → stdio\n\nFailed: ${s.error}\n`);

  const sb = keyed(run.scenarios.stdioSdkUpstream);
  if (sb?.results) {
    out.push('### 1b. stdio → stdio behind an SDK-built upstream');
    out.push('');
    out.push(
      'The same workload, but the upstream is the echo tool on the SDK’s `McpServer` (v1), ' +
        'whose own cost per call is that of a typical real server.',
    );
    out.push('');
    out.push(loadTable(sb));
  }

  const h = keyed(run.scenarios.http);
  if (h?.results) {
    out.push('### 2–3. Streamable HTTP downstream, peers');
    out.push('');
    out.push(
      `${h.sessions} sessions (1 in flight uses one), up to ${h.connections} keep-alive connections, one streamable HTTP ` +
        'echo upstream shared by every contender. The raw HTTP relay forwards each request (method, headers, body) ' +
        'over keep-alive connections and streams the answer back, understanding nothing: the floor of one extra ' +
        'HTTP hop in Node. The 2026-07-28 client row is the first Switchboard again, called statelessly with the ' +
        'per-request envelope (the SDK’s per-request path). mcp-hub serves the legacy SSE transport only: its ' +
        'figures include a POST and an event on the stream per call.',
    );
    out.push('');
    out.push(loadTable(h));
    const warnings = Object.entries(h.maxListenersWarnings ?? {});
    if (warnings.length) {
      out.push(
        `MaxListenersExceededWarning lines in the logs (a shared AbortSignal leaking a listener per request): ${warnings
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}.`,
      );
      out.push('');
    }
    for (const skip of h.skipped ?? []) out.push(`- ${skip.key} could not be started: ${skip.reason}`);
    if (h.skipped?.length) out.push('');
  } else if (h?.error) out.push(`### 2–3. Streamable HTTP\n\nFailed: ${h.error}\n`);

  const f = keyed(run.scenarios.fanout);
  if (f?.results) {
    out.push('### 4. Fan-out: tools/list over 20 upstreams');
    out.push('');
    const first = (list) => list.map((x) => `${int(x.ms)} ms (${x.tools} tools)`).join(', ');
    out.push(
      `First tools/list after starting the gateway (spawn to answer): warm ${first(f.startup.warm)}; ` +
        `one hung ${first(f.startup.hung)}.` +
        (f.peer && (f.peer.fullListMs !== undefined || f.peer.error) ? ` ${peerFanout(f.peer)}.` : ''),
    );
    out.push('');
    for (const level of f.results) {
      out.push(`**${level.inflight} in flight**`);
      out.push('');
      out.push(
        table(
          ['contender', 'p50 ms', 'p99 ms', 'lists/s', 'gateway CPU µs/list', 'errors'],
          level.rows.map((r) => [
            r.name,
            spread(r.p50, ms3),
            spread(r.p99, ms2),
            spread(r.throughput, int),
            r.key === 'direct' ? '—' : spread(r.gatewayCpuUsPerCall, one),
            String(r.errors),
          ]),
        ),
      );
      out.push('');
    }
  } else if (f?.error) out.push(`### 4. Fan-out\n\nFailed: ${f.error}\n`);

  const st = run.scenarios.stores;
  if (st?.audit) {
    out.push('### 5. Audit writer (and the quota store)');
    out.push('');
    out.push(
      table(
        ['writer', 'calls in flight', 'rows/s', 'writes per commit', 'start() p50 / p99 ms'],
        [
          ...st.audit.map((a) => [
            'AuditLog, group commit',
            String(a.concurrency),
            int(a.rowsPerSecond),
            one(a.opsPerCommit),
            `${ms3(a.startP50Ms)} / ${ms3(a.startP99Ms)}`,
          ]),
          ['better-sqlite3, one commit per statement (reference)', '1', int(st.naive.rowsPerSecond), '1', '–'],
        ],
      ),
    );
    out.push('');
    const s1 = keyed(run.scenarios.stdio);
    if (s1?.results) {
      const added = (k) =>
        rowOf(s1.results, k, 'switchboard-audit')?.addedP50.median -
        rowOf(s1.results, k, 'switchboard-off')?.addedP50.median;
      const cpu = (k) =>
        rowOf(s1.results, k, 'switchboard-audit')?.gatewayCpuUsPerCall.median -
        rowOf(s1.results, k, 'switchboard-off')?.gatewayCpuUsPerCall.median;
      out.push(
        `Auditing on vs off (scenario 1, Switchboard audit only minus both off): ${signed(ms3)(added(1))} ms at the median ` +
          `and ${signed(one)(cpu(1))} µs CPU per call at 1 in flight; ${signed(ms3)(added(32))} ms and ${signed(one)(cpu(32))} µs ` +
          'at 32 in flight.',
      );
      out.push('');
    }
    out.push(
      'Quota store, one `take()` with a rule that matches the call, by calls already inside the window: ' +
        st.quota.map((q) => `${int(q.inWindow)} → ${one(q.p50Us)} µs (p99 ${one(q.p99Us)})`).join('; ') +
        '.',
    );
    out.push('');
  } else if (st?.error) out.push(`### 5. Audit writer\n\nFailed: ${st.error}\n`);

  const r6 = run.scenarios.router;
  if (r6?.plain?.results) out.push(routerSection(r6));
  else out.push(`### 6. Model router\n\n${r6?.error ? `Failed: ${r6.error}` : 'Not measured in this run.'}\n`);

  const m = run.scenarios.memory;
  if (m && !m.error) {
    out.push('### 7. Memory (gateway process only, children excluded)');
    out.push('');
    const rows = [
      ['idle `node` process (floor)', one(m.nodeFloorMB)],
      ['bare SDK proxy, 1 upstream, idle', one(m.sdkProxyIdleMB)],
      ['Switchboard over stdio, 10 upstreams, idle', one(m.switchboardStdioIdleMB)],
      ['Switchboard over HTTP, 10 upstreams, idle', one(m.switchboardHttpIdleMB)],
      [
        `Switchboard over HTTP, under load (${m.underLoad.seconds} s, 8 sessions, 32 in flight, ${int(m.underLoad.calls)} calls, ${m.underLoad.errors} errors): median / peak`,
        `${one(m.underLoad.medianMB)} / ${one(m.underLoad.peakMB)}`,
      ],
      ['Switchboard over HTTP, after the load (sessions closed)', one(m.afterLoadMB)],
    ];
    if (m.mcpHubIdleMB !== undefined) rows.push(['mcp-hub, 10 upstreams, idle', one(m.mcpHubIdleMB)]);
    if (m.soak) {
      rows.push([
        `soak, ${m.soak.minutes} min (${int(m.soak.calls)} calls, ${m.soak.errors} errors${m.soak.command ? `; a separate run, \`${m.soak.command}\`` : ''}): after 1 min / at the end / idle after`,
        `${one(m.soak.firstMinuteMB)} / ${one(m.soak.endMB)} / ${one(m.soak.afterMB)}`,
      ]);
      rows.push([
        'soak growth after the first minute (least squares)',
        `${signed(ms2)(m.soak.growthMBPerMinute)} MB/min`,
      ]);
    }
    out.push(table(['process', 'RSS MB'], rows));
    out.push('');
  } else if (m?.error) out.push(`### 7. Memory\n\nFailed: ${m.error}\n`);

  const p = run.scenarios.profile;
  if (p?.stdio) {
    out.push('### Profile of the hot path (`node --cpu-prof`, Switchboard with policy + audit)');
    out.push('');
    for (const [name, prof] of [
      ['stdio', p.stdio],
      ['HTTP', p.http],
    ]) {
      if (!prof) continue;
      out.push(
        `**${name}**: ${int(prof.busyMs)} ms on CPU in the main thread (idle excluded). By area: ` +
          prof.areas
            .slice(0, 8)
            .map((a) => `${a.area} ${pct(a.share)}`)
            .join(', ') +
          '.',
      );
      out.push('');
      out.push(
        table(
          ['self time', 'function', 'where'],
          prof.functions.slice(0, 15).map((fn) => [pct(fn.share), `\`${fn.function}\``, `\`${fn.where || '–'}\``]),
        ),
      );
      out.push('');
      out.push(
        'Self time by file: ' +
          prof.files
            .slice(0, 10)
            .map((f) => `\`${f.file}\` ${pct(f.share)}`)
            .join(', ') +
          '.',
      );
      out.push('');
      out.push(
        "Inclusive time of Switchboard's own functions (with everything they call): " +
          prof.inclusive
            .slice(0, 10)
            .map((f) => `\`${f.function}\` (\`${f.where}\`) ${pct(f.share)}`)
            .join(', ') +
          '.',
      );
      out.push('');
    }
  }
  return out.join('\n');
}
