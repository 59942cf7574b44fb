import type { Client, Prompt, Resource, Tool } from '@modelcontextprotocol/client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';

export type ListKind = 'tools' | 'prompts' | 'resources';

export interface ResourceTemplate {
  uriTemplate: string;
  name: string;
  [key: string]: unknown;
}

export interface UpstreamLists {
  tools: readonly Tool[];
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  templates: readonly ResourceTemplate[];
}

export const EMPTY_LISTS: UpstreamLists = { tools: [], prompts: [], resources: [], templates: [] };

/**
 * Reads the given lists of a connected client (every page). Only the lists the server
 * has a capability for are read; a list that fails is logged and left out of the
 * result, so the caller keeps what it had.
 */
export async function fetchLists(
  client: Client,
  kinds: readonly ListKind[],
  log: Logger,
): Promise<Partial<UpstreamLists>> {
  const caps = client.getServerCapabilities() ?? {};
  const next: { -readonly [K in keyof UpstreamLists]?: UpstreamLists[K] } = {};
  const attempt = async (what: string, read: () => Promise<void>) => {
    try {
      await read();
    } catch (error) {
      log.warn(`cannot list ${what}`, { error: errorMessage(error) });
    }
  };
  const tasks: Promise<void>[] = [];
  if (kinds.includes('tools') && caps.tools) {
    tasks.push(attempt('tools', async () => void (next.tools = (await client.listTools()).tools)));
  }
  if (kinds.includes('prompts') && caps.prompts) {
    tasks.push(attempt('prompts', async () => void (next.prompts = (await client.listPrompts()).prompts)));
  }
  if (kinds.includes('resources') && caps.resources) {
    tasks.push(attempt('resources', async () => void (next.resources = (await client.listResources()).resources)));
    tasks.push(
      attempt('resource templates', async () => {
        next.templates = (await client.listResourceTemplates()).resourceTemplates as ResourceTemplate[];
      }),
    );
  }
  await Promise.all(tasks);
  return next;
}

/** A modern-era server reports list changes only on a `subscriptions/listen` stream. */
export async function listenForChanges(client: Client, log: Logger): Promise<void> {
  const caps = client.getServerCapabilities() ?? {};
  const filter: Record<string, boolean> = {};
  if (caps.tools?.listChanged) filter.toolsListChanged = true;
  if (caps.prompts?.listChanged) filter.promptsListChanged = true;
  if (caps.resources?.listChanged) filter.resourcesListChanged = true;
  if (Object.keys(filter).length === 0) return;
  try {
    await client.listen(filter);
  } catch (error) {
    log.warn('cannot listen for list changes', { error: errorMessage(error) });
  }
}
