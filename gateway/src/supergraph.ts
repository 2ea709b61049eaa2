/** Reads the subgraph names and routing URLs composed into a supergraph. */
export function supergraphRoutingUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)) {
    urls[match[1] as string] = match[2] as string;
  }
  return urls;
}

/**
 * `@apollo/gateway` refuses supergraphs that link features `for: SECURITY` it does not implement
 * (`@authenticated`, `@requiresScopes`): it cannot enforce them. This gateway does, before planning
 * (see authorizationPlugin), so it hands Apollo's planner the supergraph with that purpose removed.
 */
export function withoutSecurityPurpose(supergraphSdl: string): string {
  return supergraphSdl.replace(
    /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v[0-9.]+"), for: SECURITY\)/g,
    '$1)',
  );
}
