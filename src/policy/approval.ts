/**
 * The elicitation a person answers before a `requireApproval` call goes ahead: it
 * names the agent, the tool and the arguments, and asks for a yes or no.
 */
const MAX_VALUE = 300;
const MAX_SUMMARY = 2000;

function summarize(args: Record<string, unknown> | undefined): string {
  if (!args || Object.keys(args).length === 0) return '(no arguments)';
  const lines = Object.entries(args).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `• ${key}: ${text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}… (${text.length} characters)` : text}`;
  });
  const summary = lines.join('\n');
  return summary.length > MAX_SUMMARY ? `${summary.slice(0, MAX_SUMMARY)}…` : summary;
}

export function approvalRequest(agent: string, tool: string, args: Record<string, unknown> | undefined) {
  return {
    mode: 'form' as const,
    message: `Agent "${agent}" wants to call ${tool}.\n\n${summarize(args)}\n\nAllow this call?`,
    requestedSchema: {
      type: 'object' as const,
      properties: {
        approve: {
          type: 'boolean' as const,
          title: 'Approve',
          description: `Allow ${agent} to call ${tool} with these arguments`,
        },
      },
      required: ['approve'],
    },
  };
}

/** Only an explicit accept with approve = true lets the call go ahead. */
export function isApproved(result: unknown): boolean {
  const r = result as { action?: unknown; content?: { approve?: unknown } } | undefined;
  return r?.action === 'accept' && r.content?.approve === true;
}
