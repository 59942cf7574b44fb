import { fromGatewayUri, toGatewayUri } from './uris.js';

/**
 * Maps resource URIs inside results to the gateway's namespace, so a resource link or
 * embedded resource an agent receives can be read back through the gateway. Only the
 * places the spec defines are touched; everything else passes through as it came, and
 * a result without resources is returned as the same object (no copy on the hot path).
 */
type Block = { type?: unknown; uri?: unknown; resource?: { uri?: unknown } } & Record<string, unknown>;

function mapBlock(server: string, block: Block): Block {
  if (block.type === 'resource_link' && typeof block.uri === 'string') {
    return { ...block, uri: toGatewayUri(server, block.uri) };
  }
  if (block.type === 'resource' && block.resource && typeof block.resource.uri === 'string') {
    return { ...block, resource: { ...block.resource, uri: toGatewayUri(server, block.resource.uri) } };
  }
  return block;
}

function needsMapping(block: unknown): boolean {
  const type = (block as Block | null)?.type;
  return type === 'resource_link' || type === 'resource';
}

/** `content` of a tools/call result. */
export function rewriteToolResult<T extends Record<string, unknown>>(server: string, result: T): T {
  const content = result.content;
  if (!Array.isArray(content) || !content.some(needsMapping)) return result;
  return { ...result, content: content.map((block: Block) => mapBlock(server, block)) };
}

/** `messages[].content` of a prompts/get result. */
export function rewritePromptResult<T extends Record<string, unknown>>(server: string, result: T): T {
  const messages = result.messages;
  if (!Array.isArray(messages) || !messages.some((m: { content?: unknown }) => needsMapping(m.content))) return result;
  return {
    ...result,
    messages: messages.map((m: { content?: Block }) =>
      m.content && needsMapping(m.content) ? { ...m, content: mapBlock(server, m.content) } : m,
    ),
  };
}

/** `contents[].uri` of a resources/read result. */
export function rewriteReadResult<T extends Record<string, unknown>>(server: string, result: T): T {
  const contents = result.contents;
  if (!Array.isArray(contents)) return result;
  return {
    ...result,
    contents: contents.map((c: { uri?: unknown }) =>
      typeof c.uri === 'string' ? { ...c, uri: toGatewayUri(server, c.uri) } : c,
    ),
  };
}

export { fromGatewayUri, toGatewayUri };
