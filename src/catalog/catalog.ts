import type { Prompt, Resource, Tool } from '@modelcontextprotocol/client';
import { GlobList, type ToolClass } from '../policy/index.js';
import type { ResourceTemplate, UpstreamLists } from '../upstream/index.js';

/** What the catalog reads of an upstream (the gateway's own tools are one too). */
export interface CatalogSource {
  readonly name: string;
  readonly status: string;
  readonly config: { readonly readOnlyTools: readonly string[]; readonly trustAnnotations: boolean };
  readonly lists: UpstreamLists;
}
import { disambiguate, exposedName } from './names.js';
import { toGatewayUri } from './uris.js';

/** One upstream tool or prompt under its exposed name. */
export interface CatalogEntry<T> {
  exposed: string;
  server: string;
  /** The upstream's own name, sent back to it on a call. */
  name: string;
  /** The definition as agents see it: the upstream's, with only the name changed. */
  item: T;
  shortened: boolean;
  /** Set when another upstream name mapped to the same exposed name first. */
  collided: boolean;
}

/** A tool with its read/write class (see `classify`). */
export type ToolEntry = CatalogEntry<Tool> & { toolClass: ToolClass };

/** A resource or template with the server it came from. */
export interface Owned<T> {
  server: string;
  item: T;
}

/**
 * Read-only only if the upstream annotates `readOnlyHint: true` (unless the server's
 * `trustAnnotations` is false) or the server's `readOnlyTools` names it; everything
 * else is write.
 */
function classify(name: string, tool: Tool, trustAnnotations: boolean, readOnlyTools: GlobList): ToolClass {
  const glob = readOnlyTools.which(name);
  if (glob !== undefined) return { readOnly: true, reason: `readOnlyTools: ${glob}` };
  if (tool.annotations?.readOnlyHint === true) {
    return trustAnnotations
      ? { readOnly: true, reason: 'annotation readOnlyHint' }
      : { readOnly: false, reason: 'annotation ignored (trustAnnotations: false)' };
  }
  return { readOnly: false, reason: 'not marked read-only' };
}

export interface NameReport {
  kind: 'tool' | 'prompt';
  server: string;
  name: string;
  exposed: string;
  reason: 'shortened' | 'collision';
}

/** A named thing from one upstream, before naming. */
interface Candidate<T> {
  server: string;
  name: string;
  item: T;
}

const VALID = /^[A-Za-z0-9_-]+$/;

/** Names that need no sanitising first, then by server and name: a total, input-independent order. */
function byPriority(a: Candidate<unknown>, b: Candidate<unknown>): number {
  if (a.server !== b.server) return a.server < b.server ? -1 : 1;
  const aValid = VALID.test(a.name);
  if (aValid !== VALID.test(b.name)) return aValid ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Gives every candidate its exposed name. The order of upstreams and of their lists
 * does not matter: candidates are sorted first, so the same set of names always yields
 * the same exposed names. In a colliding group the name that needed no sanitising
 * keeps the plain name (`read_file` stays `files__read_file`; `read.file` gets a
 * suffix), then the first by name.
 */
function nameAll<T extends { name: string }>(candidates: Candidate<T>[]): CatalogEntry<T>[] {
  candidates.sort(byPriority);
  const taken = new Set<string>();
  const entries: CatalogEntry<T>[] = [];
  for (const candidate of candidates) {
    const base = exposedName(candidate.server, candidate.name);
    let exposed = base.name;
    const collided = taken.has(exposed);
    if (collided) exposed = disambiguate(candidate.server, candidate.name, (c) => taken.has(c));
    taken.add(exposed);
    entries.push({
      exposed,
      server: candidate.server,
      name: candidate.name,
      item: { ...candidate.item, name: exposed },
      shortened: base.shortened,
      collided,
    });
  }
  return entries;
}

/**
 * The merged view of every connected upstream: tools and prompts under
 * `<server>__<name>`, resources and templates under `switchboard://<server>/<uri>`.
 * Immutable: a change upstream builds a new Catalog, so a request in progress keeps
 * the view it started with.
 */
export class Catalog {
  readonly tools: readonly ToolEntry[];
  readonly prompts: readonly CatalogEntry<Prompt>[];
  readonly resources: readonly Owned<Resource>[];
  readonly templates: readonly Owned<ResourceTemplate>[];
  private readonly toolIndex: Map<string, ToolEntry>;
  private readonly promptIndex: Map<string, CatalogEntry<Prompt>>;
  /** Exposed tool definitions, built once per catalog for tools/list. */
  readonly toolList: readonly Tool[];
  readonly promptList: readonly Prompt[];
  readonly resourceList: readonly Resource[];
  readonly templateList: readonly ResourceTemplate[];

  /** Tools held back because their definition changed since it was approved (pinning). */
  private readonly quarantine: Map<string, ToolEntry>;

  constructor(upstreams: Iterable<CatalogSource>, quarantined?: (server: string, tool: string) => boolean) {
    const tools: Candidate<Tool>[] = [];
    const prompts: Candidate<Prompt>[] = [];
    const resources: Owned<Resource>[] = [];
    const templates: Owned<ResourceTemplate>[] = [];
    const servers = new Map<string, { trust: boolean; readOnlyTools: GlobList }>();
    // A restarting upstream keeps its last known lists: its tools stay listed and calls
    // to them are refused with the reason until it is back.
    const sorted = [...upstreams]
      .filter((u) => u.status === 'ready' || u.status === 'restarting')
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const upstream of sorted) {
      const server = upstream.name;
      servers.set(server, {
        trust: upstream.config.trustAnnotations,
        readOnlyTools: new GlobList(upstream.config.readOnlyTools),
      });
      for (const tool of upstream.lists.tools) tools.push({ server, name: tool.name, item: tool });
      for (const prompt of upstream.lists.prompts) prompts.push({ server, name: prompt.name, item: prompt });
      for (const resource of upstream.lists.resources) {
        resources.push({ server, item: { ...resource, uri: toGatewayUri(server, resource.uri) } });
      }
      for (const template of upstream.lists.templates) {
        templates.push({ server, item: { ...template, uriTemplate: toGatewayUri(server, template.uriTemplate) } });
      }
    }
    // Names are given with quarantined tools included, so a tool's name does not change
    // when it is quarantined or released.
    const named = nameAll(tools).map((entry) => {
      const { trust, readOnlyTools } = servers.get(entry.server)!;
      return { ...entry, toolClass: classify(entry.name, entry.item, trust, readOnlyTools) };
    });
    this.tools = named.filter((e) => !quarantined?.(e.server, e.name));
    this.quarantine = new Map(named.filter((e) => quarantined?.(e.server, e.name)).map((e) => [e.exposed, e]));
    this.prompts = nameAll(prompts);
    this.resources = resources;
    this.templates = templates;
    this.toolIndex = new Map(this.tools.map((entry) => [entry.exposed, entry]));
    this.promptIndex = new Map(this.prompts.map((entry) => [entry.exposed, entry]));
    this.toolList = this.tools.map((entry) => entry.item);
    this.promptList = this.prompts.map((entry) => entry.item);
    this.resourceList = this.resources.map((r) => r.item);
    this.templateList = this.templates.map((t) => t.item);
  }

  /** A tool that exists but is quarantined, by exposed name. */
  quarantined(exposed: string): ToolEntry | undefined {
    return this.quarantine.get(exposed);
  }

  tool(exposed: string): ToolEntry | undefined {
    return this.toolIndex.get(exposed);
  }

  prompt(exposed: string): CatalogEntry<Prompt> | undefined {
    return this.promptIndex.get(exposed);
  }

  /** Names that `check` reports: every shortened name and every collision. */
  nameReports(): NameReport[] {
    const reports: NameReport[] = [];
    const add = (kind: 'tool' | 'prompt', entries: readonly CatalogEntry<unknown>[]) => {
      for (const e of entries) {
        if (e.shortened)
          reports.push({ kind, server: e.server, name: e.name, exposed: e.exposed, reason: 'shortened' });
        if (e.collided) reports.push({ kind, server: e.server, name: e.name, exposed: e.exposed, reason: 'collision' });
      }
    };
    add('tool', this.tools);
    add('prompt', this.prompts);
    return reports;
  }
}
