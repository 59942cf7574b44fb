// What `npm run conformance` is expected to find, check by check, and why. Every entry
// is explained in docs/conformance.md under its `ref`: N1… a scenario that cannot pass
// through a namespacing gateway (or through any gateway), G1… a gateway bug. The runner
// fails when a check fails that no entry covers, and when an entry's checks all pass
// (a fixed bug: delete the entry and update the doc).

/** The fixture's server name in servers.json: its names reach clients as `fixture__…`. */
export const SERVER_NAME = 'fixture';

/** The protocol versions the suite covers, each run with its own wire (initialize vs stateless). */
export const VERSIONS = ['2025-11-25', '2026-07-28'];

const BOTH = ['2025-11-25', '2026-07-28'];
const V2025 = ['2025-11-25'];
const V2026 = ['2026-07-28'];

/** Direct pass: the suite calls the fixture's names, which the gateway serves as `fixture__<name>` and `switchboard://fixture/<uri>`. */
const namespaced = (scenario, versions, checks = '*') => ({
  scenario,
  versions,
  modes: ['direct'],
  checks,
  kind: 'namespacing',
  ref: 'N1',
});

const bug = (ref, scenario, checks, modes = ['aliased']) => ({
  scenario,
  versions: V2026,
  modes,
  checks,
  kind: 'gateway bug',
  ref,
});

export const EXPECTED = [
  // --- N1: the names the suite calls do not exist at a namespacing gateway ---
  ...[
    'completion-complete',
    'json-schema-2020-12',
    'prompts-get-embedded-resource',
    'prompts-get-simple',
    'prompts-get-with-args',
    'prompts-get-with-image',
    'resources-read-binary',
    'resources-read-text',
    'resources-templates-read',
    'tools-call-audio',
    'tools-call-embedded-resource',
    'tools-call-error',
    'tools-call-image',
    'tools-call-mixed-content',
    'tools-call-simple-text',
    'tools-call-with-progress',
  ].map((scenario) => namespaced(scenario, BOTH)),
  ...[
    'elicitation-sep1034-defaults',
    'elicitation-sep1330-enums',
    'resources-subscribe',
    'resources-unsubscribe',
    'tools-call-elicitation',
    'tools-call-sampling',
    'tools-call-with-logging',
  ].map((scenario) => namespaced(scenario, V2025)),
  ...[
    'input-required-result-basic-elicitation',
    'input-required-result-basic-list-roots',
    'input-required-result-basic-sampling',
    'input-required-result-capability-check',
    'input-required-result-multi-round',
    'input-required-result-multiple-input-requests',
    'input-required-result-non-tool-request',
    'input-required-result-request-state',
    'input-required-result-result-type',
    'input-required-result-tampered-state',
  ].map((scenario) => namespaced(scenario, V2026)),
  namespaced('server-stateless', V2026, [
    'sep-2575-server-rejects-undeclared-capability',
    'sep-2575-missing-capability-http-400',
    'sep-2575-http-server-no-independent-requests-on-stream',
    'sep-2575-server-no-log-without-loglevel',
  ]),

  // --- G1, G2, G3 were fixed: requestState per round and bound to its request, one caller
  // key per agent for stateless requests, -32021 answered to the client with
  // data.requiredCapabilities. What stays is N2 for basic-elicitation and capability-check:
  ...[
    ['input-required-result-basic-elicitation', ['sep-2322-elicitation-incomplete'], 'N2'],
    ['input-required-result-capability-check', ['sep-2322-respect-client-capabilities'], 'N3'],
  ].map(([scenario, checks, ref]) => bug(ref, scenario, checks)),

  // --- G4: a 2026-07-28 client is never asked roots/list ---
  bug('G4', 'input-required-result-basic-list-roots', ['sep-2322-list-roots-incomplete']),
  bug('G4', 'input-required-result-multiple-input-requests', ['sep-2322-multiple-inputs-incomplete']),
];
