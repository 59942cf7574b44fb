// Switchboard's dashboard: one page, no framework, no CDN. Every value from the audit log
// is put in the page as text (never as HTML): arguments, errors and tool definitions come
// from agents and upstreams and may be hostile.

const REFRESH_MS = 1500;
/** The audit statuses, from the gateway (`/api/info`), for the status filter. */
let statuses = [];
const PERIODS = [
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['6h', 'last 6 hours'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['', 'all time'],
];

/** Builds an element; strings and numbers become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    // Through the CSSOM: the page's CSP forbids style attributes in markup.
    else if (key === 'style') el.style.cssText = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : String(child));
  return el;
};

// ── talking to the gateway ───────────────────────────────────────────────────────────

const token = () => sessionStorage.getItem('switchboard-admin-token') ?? '';

async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`api/${path}`, { ...init, headers });
  const body = await response.json().catch(() => ({}));
  // The API answers { error: "…" }; the origin guard answers JSON-RPC's { error: { message } }.
  const message = typeof body.error === 'string' ? body.error : body.error?.message;
  if (response.status === 401) {
    askForToken(message);
    throw new Error(message ?? 'unauthorized');
  }
  if (!response.ok) throw new Error(message ?? `${response.status} ${response.statusText}`);
  return body;
}

function askForToken(reason) {
  const notice = document.getElementById('notice');
  if (!notice.hidden && document.getElementById('admin-token')) return; // already asking: keep what is typed
  notice.hidden = false;
  notice.replaceChildren(
    h('span', {}, `${reason ?? 'An admin token is needed'}. `),
    h('input', { id: 'admin-token', type: 'password', placeholder: 'SWITCHBOARD_ADMIN_TOKEN', autocomplete: 'off' }),
    ' ',
    h(
      'button',
      {
        onclick: () => {
          sessionStorage.setItem('switchboard-admin-token', document.getElementById('admin-token').value.trim());
          notice.hidden = true;
          void render();
        },
      },
      'Use token',
    ),
  );
}

function showError(error) {
  const status = document.getElementById('status');
  status.textContent = `⚠ ${error.message}`;
  status.style.color = 'var(--bad)';
}

function showOk(text) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.style.color = '';
}

// ── formatting ───────────────────────────────────────────────────────────────────────

const badge = (status) => h('span', { class: `badge ${status}` }, status);
const ms = (value) => (value === null || value === undefined ? '—' : value < 10 ? value.toFixed(2) : Math.round(value));
const usd = (value) =>
  value === null || value === undefined ? '—' : `$${value < 0.01 ? value.toFixed(6) : value.toFixed(4)}`;
const pct = (value) => `${(value * 100).toFixed(1)} %`;
function clock(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}
function pretty(text) {
  if (text === null || text === undefined || text === '') return '—';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
const empty = (text) => h('div', { class: 'empty' }, text);

function table(headers, rows, options = {}) {
  return h(
    'table',
    { 'data-testid': options.testid },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map(([label, cls]) => h('th', { class: cls }, label)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

// ── state kept in the address, so a view can be shared or reloaded ──────────────────

function route() {
  const [page, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { page: page || 'calls', params: new URLSearchParams(query) };
}

function setParams(params) {
  const { page } = route();
  const text = params.toString();
  history.replaceState(null, '', `#/${page}${text ? `?${text}` : ''}`);
}

// ── pages ────────────────────────────────────────────────────────────────────────────

let timer;
/** Bumped on every render: a page that finished loading after the user left it must not start polling. */
let generation = 0;
/** Polls `fn` while the page is the current one and the tab is visible. */
function poll(gen, fn) {
  if (gen !== generation) return;
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.hidden) fn();
  }, REFRESH_MS);
}
let facets = { agents: [], servers: [], tools: [] };
let selected;

function select(id, label, options, value, onchange) {
  return h(
    'select',
    { id, 'aria-label': label, onchange },
    h('option', { value: '' }, `any ${label}`),
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, text);
    }),
  );
}

function periodSelect(id, value, onchange) {
  return h(
    'select',
    { id, 'aria-label': 'period', onchange },
    PERIODS.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
  );
}

async function callsPage(root, gen) {
  const { params } = route();
  const changed = (key) => (event) => {
    const next = new URLSearchParams(route().params);
    if (event.target.value) next.set(key, event.target.value);
    else next.delete(key);
    setParams(next);
    selected = undefined;
    void refresh(true);
  };
  facets = await api('facets').catch(() => facets);
  if (statuses.length === 0) statuses = (await api('info').catch(() => ({}))).statuses ?? [];
  const filters = h(
    'div',
    { class: 'filters' },
    select('f-agent', 'agent', facets.agents, params.get('agent') ?? '', changed('agent')),
    select('f-server', 'server', facets.servers, params.get('server') ?? '', changed('server')),
    h('input', {
      id: 'f-tool',
      'aria-label': 'tool',
      placeholder: 'tool (glob: files__*)',
      value: params.get('tool') ?? '',
      list: 'tool-names',
      onchange: changed('tool'),
    }),
    h(
      'datalist',
      { id: 'tool-names' },
      facets.tools.map((t) => h('option', { value: t })),
    ),
    select('f-status', 'status', statuses, params.get('status') ?? '', changed('status')),
    periodSelect('f-since', params.get('since') ?? '24h', changed('since')),
    h('span', { class: 'muted', id: 'calls-count' }),
  );
  const count = filters.querySelector('#calls-count');
  const list = h('div', { id: 'calls-list' });
  const detail = h('div', { id: 'calls-detail' });
  root.replaceChildren(filters, detail, list);

  let last = '';
  async function refresh(force = false) {
    const q = new URLSearchParams(route().params);
    q.set('limit', '200');
    // The default period bounds what each poll reads; "all time" is an explicit choice.
    if (!q.has('since')) q.set('since', '24h');
    const { rows } = await api(`calls?${q}`);
    const signature = JSON.stringify(rows.map((r) => [r.id, r.status]));
    if (!force && signature === last) return;
    last = signature;
    count.textContent = `${rows.length}${rows.length === 200 ? '+' : ''} calls, newest first`;
    if (rows.length === 0) {
      list.replaceChildren(empty('No calls match. Calls appear here as agents make them.'));
      return;
    }
    list.replaceChildren(
      table(
        [['time'], ['agent'], ['tool'], ['server'], ['status'], ['ms', 'num'], ['tokens', 'num'], ['cost', 'num']],
        rows.map((row) =>
          h(
            'tr',
            {
              class: `clickable${row.id === selected ? ' selected' : ''}`,
              'data-id': row.id,
              onclick: () => {
                selected = row.id;
                void showCall(detail, row.id);
                for (const tr of list.querySelectorAll('tr.selected')) tr.classList.remove('selected');
                list.querySelector(`tr[data-id="${row.id}"]`)?.classList.add('selected');
              },
            },
            h('td', { title: row.ts }, clock(row.ts)),
            h('td', {}, row.agent),
            h('td', {}, row.exposedName ?? row.method),
            h('td', {}, row.server ?? '—'),
            h('td', {}, badge(row.status)),
            h('td', { class: 'num' }, ms(row.latencyMs)),
            h(
              'td',
              { class: 'num' },
              row.inputTokens === null && row.outputTokens === null
                ? '—'
                : `${row.inputTokens ?? 0}/${row.outputTokens ?? 0}`,
            ),
            h('td', { class: 'num' }, usd(row.costUsd)),
          ),
        ),
        { testid: 'calls' },
      ),
    );
    if (selected !== undefined && rows.some((r) => r.id === selected)) void showCall(detail, selected);
  }
  await refresh(true);
  poll(gen, () => refresh().then(() => showOk(`live · updated ${new Date().toLocaleTimeString()}`), showError));
}

async function showCall(detail, id) {
  const row = await api(`calls/${id}`);
  let attempts = [];
  try {
    attempts = row.attempts ? JSON.parse(row.attempts) : [];
  } catch {
    attempts = [];
  }
  const field = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  detail.replaceChildren(
    h(
      'div',
      { class: 'detail', 'data-testid': 'call-detail' },
      h('h2', {}, `#${row.id} ${row.exposedName ?? row.method} `, badge(row.status)),
      h(
        'dl',
        {},
        field('time', row.ts),
        field('agent', `${row.agent} (${row.transport}${row.client ? `, ${row.client}` : ''})`),
        field('origin', row.origin),
        field('method', row.method),
        field('server / tool', row.server ? `${row.server} / ${row.name}` : '—'),
        field('policy rule', row.decision),
        field('latency', row.latencyMs === null ? '—' : `${ms(row.latencyMs)} ms`),
        field('bytes in / out', `${row.requestBytes ?? '—'} / ${row.responseBytes ?? '—'}`),
        row.model ? field('model', `${row.model} (${row.provider})`) : [],
        row.inputTokens !== null ? field('tokens in / out', `${row.inputTokens} / ${row.outputTokens}`) : [],
        row.costUsd !== null ? field('cost', usd(row.costUsd)) : [],
        row.error ? field('error', h('pre', { 'data-testid': 'call-error' }, row.error)) : [],
        field('arguments (redacted)', h('pre', { 'data-testid': 'call-args' }, pretty(row.args))),
        row.result ? field('result', h('pre', {}, pretty(row.result))) : [],
        attempts.length
          ? field(
              'attempts',
              table(
                [['target'], ['outcome'], ['ms', 'num'], ['first token ms', 'num'], ['detail']],
                attempts.map((a) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, a.target ?? a.provider ?? '—'),
                    h('td', {}, badge(a.status ?? 'error')),
                    h('td', { class: 'num' }, ms(a.latencyMs)),
                    h('td', { class: 'num' }, ms(a.ttftMs)),
                    h('td', {}, [a.httpStatus ? `HTTP ${a.httpStatus}` : '', a.error ?? ''].filter(Boolean).join(': ')),
                  ),
                ),
              ),
            )
          : [],
        field('args hash', h('code', {}, row.argsHash ?? '—')),
      ),
    ),
  );
}

function timelineChart(points) {
  const width = 800;
  const height = 160;
  const max = Math.max(1, ...points.map((p) => p.calls));
  const step = width / points.length;
  const bars = points.flatMap((p, i) => {
    const total = (p.calls / max) * (height - 20);
    const bad = (p.errors / max) * (height - 20);
    const x = i * step + 1;
    const w = Math.max(1, step - 2);
    return [
      svg(
        'rect',
        { x, y: height - total, width: w, height: total - bad, fill: '#2457c5' },
        svg('title', {}, `${p.start}: ${p.calls} calls, ${p.errors} failed`),
      ),
      svg('rect', { x, y: height - bad, width: w, height: bad, fill: '#b3261e' }),
    ];
  });
  return h(
    'div',
    { class: 'chart', 'data-testid': 'timeline' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'calls over time' },
      svg('text', { x: 4, y: 12, 'font-size': 11, fill: '#6b6b66' }, `max ${max} calls per bucket`),
      bars,
    ),
    h(
      'div',
      { class: 'legend' },
      h('span', {}, h('i', { style: 'background:#2457c5' }), 'calls'),
      h('span', {}, h('i', { style: 'background:#b3261e' }), 'not ok'),
      h('span', {}, `from ${clock(points[0]?.start)} to now`),
    ),
  );
}

function statsTable(rows, label, testid) {
  const maxCount = Math.max(1, ...rows.map((r) => r.count));
  const maxP95 = Math.max(1, ...rows.map((r) => r.p95Ms ?? 0));
  return table(
    [
      [label],
      ['calls', 'num'],
      [''],
      ['errors', 'num'],
      ['p50 ms', 'num'],
      ['p95 ms', 'num'],
      [''],
      ['tokens in/out', 'num'],
      ['cost', 'num'],
    ],
    rows.map((r) =>
      h(
        'tr',
        {},
        h('td', {}, r.key),
        h('td', { class: 'num' }, r.count),
        h(
          'td',
          {},
          h('div', { class: 'track' }, h('div', { class: 'bar', style: `width:${(r.count / maxCount) * 100}%` })),
        ),
        h('td', { class: 'num' }, r.errors ? `${r.errors} (${pct(r.errorRate)})` : '0'),
        h('td', { class: 'num' }, ms(r.p50Ms)),
        h('td', { class: 'num' }, ms(r.p95Ms)),
        h(
          'td',
          {},
          h(
            'div',
            { class: 'track' },
            h('div', { class: 'bar bad', style: `width:${((r.p95Ms ?? 0) / maxP95) * 100}%` }),
          ),
        ),
        h('td', { class: 'num' }, r.inputTokens || r.outputTokens ? `${r.inputTokens}/${r.outputTokens}` : '—'),
        h('td', { class: 'num' }, r.costUsd ? usd(r.costUsd) : '—'),
      ),
    ),
    { testid },
  );
}

async function statsPage(root) {
  const { params } = route();
  const since = params.get('since') ?? '1h';
  const by = params.get('by') ?? 'tool';
  const change = (key) => (event) => {
    const next = new URLSearchParams(route().params);
    next.set(key, event.target.value);
    setParams(next);
    void render();
  };
  const period = since ? `&since=${since}` : '';
  const [main, agents, models] = await Promise.all([
    api(`stats?by=${by}${period}`),
    api(`stats?by=agent${period}&timeline=0`),
    api(`stats?by=model${period}&timeline=0`),
  ]);
  const total = main.rows.reduce((n, r) => n + r.count, 0);
  const errors = main.rows.reduce((n, r) => n + r.errors, 0);
  const cost = agents.rows.reduce((n, r) => n + r.costUsd, 0);
  const tokens = agents.rows.reduce((n, r) => n + r.inputTokens + r.outputTokens, 0);
  const card = (label, value) =>
    h('div', { class: 'card' }, h('div', { class: 'muted' }, label), h('div', { class: 'value' }, value));
  root.replaceChildren(
    h(
      'div',
      { class: 'filters' },
      periodSelect('s-since', since, change('since')),
      h(
        'select',
        { id: 's-by', 'aria-label': 'group by', onchange: change('by') },
        ['tool', 'server', 'agent', 'status', 'model'].map((k) =>
          h('option', { value: k, selected: k === by }, `per ${k}`),
        ),
      ),
    ),
    h(
      'div',
      { class: 'cards' },
      card('calls', total),
      card('error rate', total ? pct(errors / total) : '—'),
      card('tokens', tokens),
      card('cost', cost ? usd(cost) : '—'),
    ),
    timelineChart(main.timeline),
    h('h2', {}, `Per ${by}`),
    main.rows.length ? statsTable(main.rows, by, 'stats') : empty('No finished calls in this period.'),
    h(
      'div',
      { class: 'grid2' },
      h(
        'div',
        {},
        h('h2', {}, 'Cost and tokens per agent'),
        agents.rows.length ? statsTable(agents.rows, 'agent', 'stats-agents') : empty('—'),
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Cost and tokens per model'),
        models.rows.filter((r) => r.key !== '(none)').length
          ? statsTable(
              models.rows.filter((r) => r.key !== '(none)'),
              'model',
              'stats-models',
            )
          : empty('No model calls (switchboard__sample) in this period.'),
      ),
    ),
  );
}

function diffView(change) {
  const keys = [...new Set([...Object.keys(change.approved), ...Object.keys(change.pending)])];
  const lines = [];
  for (const key of keys) {
    const before = JSON.stringify(change.approved[key] ?? null, null, 2);
    const after = JSON.stringify(change.pending[key] ?? null, null, 2);
    if (before === after) continue;
    lines.push(h('div', {}, h('strong', {}, key)));
    for (const line of before.split('\n')) lines.push(h('div', { class: 'del' }, `- ${line}`));
    for (const line of after.split('\n')) lines.push(h('div', { class: 'add' }, `+ ${line}`));
  }
  return h('pre', { class: 'diff' }, lines);
}

async function upstreamsPage(root) {
  const { live, pins } = await api('upstreams');
  const parts = [h('h2', {}, 'Upstream servers')];
  if (!live) {
    parts.push(
      empty(
        'This dashboard reads only the database (switchboard dashboard): live upstream health is shown by the gateway that serves the page.',
      ),
    );
  } else {
    parts.push(
      table(
        [
          ['server'],
          ['status'],
          ['transport'],
          ['protocol'],
          ['tools', 'num'],
          ['restarts', 'num'],
          ['last error'],
          ['next retry'],
        ],
        live.upstreams.map((u) =>
          h(
            'tr',
            { 'data-server': u.name },
            h('td', {}, u.name),
            h('td', {}, badge(u.status)),
            h('td', {}, u.transport),
            h('td', {}, u.protocolVersion ?? '—'),
            h('td', { class: 'num' }, u.tools),
            h('td', { class: 'num' }, u.restarts),
            h('td', {}, u.error ?? ''),
            h('td', {}, u.nextRetryAt ? clock(u.nextRetryAt) : ''),
          ),
        ),
        { testid: 'upstreams' },
      ),
      h('p', { class: 'muted' }, `${live.callsInFlight} calls in flight · overall ${live.status}`),
    );
  }
  parts.push(h('h2', {}, 'Changed tool definitions (quarantined until approved)'));
  if (pins.length === 0) parts.push(empty('No tool definition changed since it was approved.'));
  for (const change of pins) {
    parts.push(
      h(
        'div',
        { class: 'detail', 'data-testid': `pin-${change.exposedName}` },
        h('strong', {}, change.exposedName),
        h('span', { class: 'muted' }, ` server ${change.server}, changed ${clock(change.changedAt)} `),
        h(
          'button',
          {
            class: 'approve',
            onclick: () =>
              api('pins/approve', { method: 'POST', body: JSON.stringify({ name: change.exposedName }) }).then(
                render,
                showError,
              ),
          },
          'Approve new definition',
        ),
        diffView(change),
      ),
    );
  }
  root.replaceChildren(...parts);
  document.getElementById('pins-count').textContent = pins.length ? String(pins.length) : '';
}

async function approvalsPage(root, gen) {
  let last = '';
  async function refresh() {
    const { rows } = await api('approvals?limit=100');
    const signature = JSON.stringify(rows.map((r) => [r.id, r.status]));
    if (signature === last) return;
    last = signature;
    const pending = rows.filter((r) => r.status === 'pending');
    const decided = rows.filter((r) => r.status !== 'pending');
    const decide = (id, decision) => () =>
      api(`approvals/${id}`, { method: 'POST', body: JSON.stringify({ decision }) }).then(() => {
        last = '';
        return refresh();
      }, showError);
    root.replaceChildren(
      h('h2', {}, 'Waiting for a person'),
      pending.length === 0
        ? empty(
            'No call waits for approval. Calls matching a policy’s requireApproval wait here (and are asked in the agent’s client when it can).',
          )
        : h(
            'div',
            {},
            pending.map((r) =>
              h(
                'div',
                { class: 'detail', 'data-testid': `approval-${r.id}` },
                h('strong', {}, `${r.agent} wants to call ${r.tool}`),
                h('span', { class: 'muted' }, ` since ${clock(r.createdAt)} · rule ${r.rule}`),
                h('pre', {}, pretty(r.args)),
                h('button', { class: 'approve', onclick: decide(r.id, 'approve') }, 'Approve'),
                ' ',
                h('button', { class: 'deny', onclick: decide(r.id, 'deny') }, 'Deny'),
              ),
            ),
          ),
      h('h2', {}, 'Recent decisions'),
      decided.length === 0
        ? empty('None yet.')
        : table(
            [['asked'], ['agent'], ['tool'], ['decision'], ['by'], ['at']],
            decided.map((r) =>
              h(
                'tr',
                { 'data-testid': `decided-${r.id}` },
                h('td', {}, clock(r.createdAt)),
                h('td', {}, r.agent),
                h('td', {}, r.tool),
                h('td', {}, badge(r.status)),
                h('td', {}, r.decidedBy ?? '—'),
                h('td', {}, r.decidedAt ? clock(r.decidedAt) : '—'),
              ),
            ),
          ),
    );
    document.getElementById('approvals-count').textContent = pending.length ? String(pending.length) : '';
  }
  await refresh();
  poll(gen, () => refresh().catch(showError));
}

async function dupesPage(root) {
  const { params } = route();
  const window = params.get('window') ?? '10s';
  const since = params.get('since') ?? '24h';
  const change = (key) => (event) => {
    const next = new URLSearchParams(route().params);
    next.set(key, event.target.value);
    setParams(next);
    void render();
  };
  const { groups } = await api(`dupes?window=${encodeURIComponent(window)}${since ? `&since=${since}` : ''}`);
  root.replaceChildren(
    h(
      'div',
      { class: 'filters' },
      h(
        'label',
        {},
        'repeats within ',
        h(
          'select',
          { id: 'd-window', onchange: change('window') },
          ['1s', '10s', '1m', '10m', '1h'].map((w) => h('option', { value: w, selected: w === window }, w)),
        ),
      ),
      periodSelect('d-since', since, change('since')),
    ),
    h(
      'p',
      { class: 'muted' },
      'The same agent calling the same tool with the same arguments again within the window: candidates for caching, or an agent stuck in a loop.',
    ),
    groups.length === 0
      ? empty('No redundant calls in this period.')
      : table(
          [['agent'], ['tool'], ['calls', 'num'], ['first'], ['last'], ['arguments hash']],
          groups.map((g) =>
            h(
              'tr',
              {},
              h('td', {}, g.agent),
              h('td', {}, g.tool),
              h('td', { class: 'num' }, g.count),
              h('td', {}, clock(g.first)),
              h('td', {}, clock(g.last)),
              h('td', {}, h('code', {}, g.argsHash.slice(0, 16))),
            ),
          ),
          { testid: 'dupes' },
        ),
  );
}

const PAGES = {
  calls: callsPage,
  stats: statsPage,
  upstreams: upstreamsPage,
  approvals: approvalsPage,
  dupes: dupesPage,
};

async function render() {
  clearInterval(timer);
  const gen = ++generation;
  const { page } = route();
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  // Each view renders into its own container: a late answer for a page the user already
  // left lands in a detached element instead of over the new page.
  const root = h('div');
  document.getElementById('page').replaceChildren(root);
  try {
    await (PAGES[page] ?? callsPage)(root, gen);
    showOk(`updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    showError(error);
  }
}

/** The header's counters stay current on every page. */
async function counters() {
  if (!token() || document.hidden) return;
  try {
    const [{ rows }, { pins }] = await Promise.all([api('approvals?status=pending&limit=1000'), api('upstreams')]);
    document.getElementById('approvals-count').textContent = rows.length ? String(rows.length) : '';
    document.getElementById('pins-count').textContent = pins.length ? String(pins.length) : '';
  } catch {
    // the page's own refresh reports errors
  }
}

async function start() {
  // The gateway prints the dashboard's address with its token in the fragment (never sent
  // to a server): keep it for this tab and take it out of the address bar.
  const given = /[#&]token=([^&]+)/.exec(location.hash);
  if (given) {
    sessionStorage.setItem('switchboard-admin-token', decodeURIComponent(given[1]));
    history.replaceState(null, '', '#/calls');
  }
  const info = await api('info').catch((error) => {
    showError(error);
    return undefined;
  });
  if (info && !info.auditing) {
    const notice = document.getElementById('notice');
    notice.hidden = false;
    notice.textContent = 'Auditing is off in this gateway (gateway.audit.enabled: false): no calls are recorded.';
  }
  if (info) {
    document.title = `Switchboard ${info.version}`;
    statuses = info.statuses;
  }
  window.addEventListener('hashchange', () => void render());
  await render();
  void counters();
  setInterval(() => void counters(), REFRESH_MS * 2);
}

void start();
