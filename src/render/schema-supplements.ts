/**
 * What the vendored dynamic schema (schemas/traefik-v3-file-provider.json, SchemaStore's) does
 * not list although Traefik 3.0 reads it (pkg/config/dynamic/http_config.go at v3.0.4; see
 * docs/traefik-facts.md §10): validate.ts closes every object to the keys its schema lists, so
 * without these a valid file would be refused. Each entry names a field traefik-sync writes;
 * test/traefik/ loads them in Traefik 3.0 and 3.7.
 */

type Node = Record<string, unknown>;

const at = (root: Node, ...path: string[]): Node => {
  let node: Node = root;
  for (const key of path) {
    node = node[key] as Node;
    if (!node || typeof node !== 'object') throw new Error(`schema supplement: ${path.join('.')} is not in the vendored schema`);
  }
  return node;
};

/** `serversTransports` (Traefik 3.0): the options traefik-sync writes. */
const SERVERS_TRANSPORT: Node = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: {
      serverName: { type: 'string' },
      insecureSkipVerify: { type: 'boolean' },
      rootCAs: { type: 'array', items: { type: 'string' } },
      certificates: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: { certFile: { type: 'string' }, keyFile: { type: 'string' } },
          required: ['certFile', 'keyFile'],
        },
      },
    },
  },
};

/** Add the missing fields to the dynamic schema (in place). */
export function supplementDynamicSchema(schema: Node): void {
  const defs = at(schema, 'definitions');
  const lb = at(defs, 'httpLoadBalancerService', 'properties');
  at(lb, 'servers', 'items', 'properties').weight = { type: 'integer', minimum: 0 };
  for (const sticky of [at(lb, 'sticky'), at(defs, 'httpWeightedService', 'properties', 'sticky')]) {
    at(sticky, 'properties', 'cookie', 'properties').maxAge = { type: 'integer' };
  }
  at(schema, 'properties', 'http', 'properties').serversTransports = SERVERS_TRANSPORT;
}
