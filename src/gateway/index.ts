/** The gateway: `/pub/job/{name}/{version}/...` routing, version resolution and forwarding. */
export { Gateway, type GatewayOptions, type GatewayDecision } from './proxy.js';
export { RoutingTable, type RouteVersion, type RouteReplica, type RoutingSource } from './routing-table.js';
export { parseGatewayUrl, mapUpstreamPath, type GatewayTarget, type UpstreamRoute } from './paths.js';
export { resolveVersion, isWildcardSpec, type VersionCandidate, type VersionResolution } from './versions.js';
