/**
 * Resource URIs are namespaced by prefixing `switchboard://<server>/` to the upstream's
 * own URI, unchanged. The mapping is reversible by stripping the prefix, and it keeps
 * URI templates working: expanding the mapped template gives the mapped expansion.
 */
const SCHEME = 'switchboard://';

export function toGatewayUri(server: string, uri: string): string {
  return `${SCHEME}${server}/${uri}`;
}

export function fromGatewayUri(uri: string): { server: string; uri: string } | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  const slash = uri.indexOf('/', SCHEME.length);
  if (slash <= SCHEME.length) return undefined;
  return { server: uri.slice(SCHEME.length, slash), uri: uri.slice(slash + 1) };
}
