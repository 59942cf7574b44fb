import type { Prompt, Resource, Tool } from '@modelcontextprotocol/server';
import type { Catalog } from '../catalog/index.js';
import { resourcePolicyName, type Decision, type Policy } from '../policy/index.js';
import type { ResourceTemplate } from '../upstream/index.js';

const NO_POLICY: Decision = { allowed: false, rule: 'no policy file for this agent' };

export interface Visible {
  tools: readonly Tool[];
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  templates: readonly ResourceTemplate[];
}

/**
 * What one agent may see and use. Lists are filtered once per (catalog, policy) pair
 * and reused until either changes; decisions for a single name come from the policy's
 * own memo.
 */
export class Visibility {
  private cached: { catalog: Catalog; policy: Policy | undefined; visible: Visible } | undefined;

  constructor(private readonly current: () => { catalog: Catalog; policy: Policy | undefined }) {}

  lists(): Visible {
    const { catalog, policy } = this.current();
    if (this.cached?.catalog === catalog && this.cached.policy === policy) return this.cached.visible;
    const visible: Visible = policy
      ? {
          tools: catalog.tools.filter((t) => policy.decideTool(t.exposed, t.toolClass).allowed).map((t) => t.item),
          prompts: catalog.prompts.filter((p) => policy.decide(p.exposed).allowed).map((p) => p.item),
          resources: catalog.resources
            .filter((r) => policy.decide(resourcePolicyName(r.server)).allowed)
            .map((r) => r.item),
          templates: catalog.templates
            .filter((t) => policy.decide(resourcePolicyName(t.server)).allowed)
            .map((t) => t.item),
        }
      : { tools: [], prompts: [], resources: [], templates: [] };
    this.cached = { catalog, policy, visible };
    return visible;
  }

  /**
   * Whether the agent may see `server` at all: it may read its resources, or use one of
   * its tools or prompts. A server it may not see is left out of its status and of the
   * server instructions, like its tools are left out of its lists.
   */
  mayUse(server: string): boolean {
    const { catalog, policy } = this.current();
    if (!policy) return false;
    if (policy.decide(resourcePolicyName(server)).allowed) return true;
    return (
      catalog.tools.some((t) => t.server === server && policy.decideTool(t.exposed, t.toolClass).allowed) ||
      catalog.prompts.some((p) => p.server === server && policy.decide(p.exposed).allowed)
    );
  }

  tool(name: string): Decision {
    const { catalog, policy } = this.current();
    const toolClass = (catalog.tool(name) ?? catalog.quarantined(name))?.toolClass;
    return policy ? policy.decideTool(name, toolClass) : NO_POLICY;
  }

  prompt(name: string): Decision {
    return this.current().policy?.decide(name) ?? NO_POLICY;
  }

  resources(server: string): Decision {
    return this.current().policy?.decide(resourcePolicyName(server)) ?? NO_POLICY;
  }
}
