/**
 * The OpenAPI 3.0 document of the sidecar's HTTP API, served at /api/v1/openapi.json. Tests
 * validate real answers against its schemas and check it lists exactly the served paths.
 */
import { LIMITS, type IntRange } from './limits.js';
import { schemas } from './openapi-schemas.js';

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

const pathParam = (description: string, required: boolean) => ({
  name: 'path',
  in: 'query',
  required,
  description,
  schema: { type: 'string', maxLength: 1024 },
});
const intParam = (name: string, description: string, range: IntRange) => ({
  name,
  in: 'query',
  required: false,
  description: `${description} (default ${range.default}).`,
  schema: { type: 'integer', minimum: range.min, maximum: range.max, default: range.default },
});

/** Refusals every file endpoint can answer with. */
const refusals = {
  400: error(
    'The path is malformed or leaves the config root: "..", ".", empty segments, absolute, backslash, NUL or control characters, percent-encoded (or doubly encoded) traversal, look-alike characters, longer than 1024 characters, a symbolic link pointing outside, a directory where a file is expected; or a bad parameter.',
  ),
  403: error(
    'Key material (ssl/keys/, *.key, or a file holding a PEM private key) is never served, also when reached through a symbolic link or other letter case; nor is a file with more than one hard link.',
  ),
  404: error('Nothing at that path.'),
};

const fileDescription =
  'Relative to the config root (e.g. dynamic/shop/domains.yml), decoded once from the query string (a "%" in a name is sent as %25; a malformed escape is refused).';

/** Answers of every path behind the token or loopback check (src/observability/access.ts). */
const access = {
  401: error('A token is required (API_TOKEN_FILE): send "Authorization: Bearer <token>", or open /?token=<token> once in a browser.'),
  403: error(
    'Without API_TOKEN_FILE only loopback clients are answered; a request not authenticated by its Authorization header must name an accepted Host (localhost, 127.0.0.1, [::1], POD_NAME, POD_IP, API_ALLOWED_HOSTS). File endpoints: also key material and files with several hard links.',
  ),
};

/** `paths` with the access answers added to the API's and the page's operations. */
function protectedPaths<T extends Record<string, { get: { responses: object } }>>(paths: T): T {
  return Object.fromEntries(
    Object.entries(paths).map(([p, op]) =>
      p === '/' || p.startsWith('/api/') ? [p, { get: { ...op.get, responses: { ...op.get.responses, ...access } } }] : [p, op],
    ),
  ) as T;
}

/** The document (a plain object; serve it as JSON). */
export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'traefik-sync sidecar API',
    version: '1',
    description:
      'Probes, metrics, status and the read-only file API of the traefik-sync sidecar (docs/contract.md §5). Every endpoint answers GET and HEAD only; other methods get 405.',
  },
  paths: protectedPaths({
    '/healthz': {
      get: {
        summary: 'Liveness: 200 while the control loop is alive (heartbeat fresh); not tied to the database.',
        responses: { 200: json(ref('Health'), 'Alive.'), 503: json(ref('Health'), 'The control loop stalled.') },
      },
    },
    '/readyz': {
      get: {
        summary:
          'Readiness: 503 until the first full sync wrote the config, or a config a previous run finished is found on the volume; then 200, also while the database is down.',
        responses: {
          200: json(ref('Ready'), 'Serving the config.'),
          503: json(ref('Ready'), 'No full sync yet, and no finished config on the volume.'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (docs/contract.md §6), text exposition format.',
        responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/api/v1/status': {
      get: {
        summary: "This replica's state: leader, database, queue, last sync, drift and projects.",
        responses: { 200: json(ref('Status'), 'Status.') },
      },
    },
    '/api/v1/projects': {
      get: {
        summary: 'Project directories under dynamic/.',
        responses: { 200: json(ref('Projects'), 'Names, sorted.'), 400: refusals[400], 500: error('The config root could not be read.') },
      },
    },
    '/api/v1/files': {
      get: {
        summary:
          'Directory tree under the config root, bounded: a page of the directory (offset, limit), nested levels up to depth, and an entry budget; `truncated` tells when anything was cut.',
        parameters: [
          pathParam(`Directory (default: the config root). ${fileDescription}`, false),
          {
            name: 'project',
            in: 'query',
            required: false,
            description: 'A project name: the tree of dynamic/<project> (instead of path).',
            schema: { type: 'string' },
          },
          intParam('depth', 'Levels below the directory to list', LIMITS.depth),
          intParam('offset', 'First entry of the page', LIMITS.offset),
          intParam('limit', 'Entries per page of the directory itself', LIMITS.limit),
        ],
        responses: { 200: json(ref('DirectoryTree'), 'The tree.'), ...refusals },
      },
    },
    '/api/v1/files/content': {
      get: {
        summary:
          "A file's text with its checksum, size, modification time, ownership (header) and whether it is in sync with traefik_configs.",
        parameters: [pathParam(fileDescription, true)],
        responses: { 200: json(ref('FileContent'), 'The file.'), ...refusals, 413: error('The file is larger than the limit (5 MiB).') },
      },
    },
    '/api/v1/files/download': {
      get: {
        summary:
          'The file as an attachment (content-disposition, nosniff): byte for byte, or with its secrets masked as *** (header x-masked-values counts them; x-checksum is the file on disk).',
        parameters: [pathParam(fileDescription, true)],
        responses: {
          200: { description: 'The bytes.', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          ...refusals,
          413: error('The file is larger than the limit (5 MiB).'),
        },
      },
    },
    '/api/v1/diff': {
      get: {
        summary:
          'Database content (traefik_configs) against the disk as a unified diff (a/ = disk, b/ = database); key material and other secrets masked.',
        parameters: [pathParam(fileDescription, true)],
        responses: {
          200: json(ref('FileDiff'), 'The diff (empty when in sync).'),
          ...refusals,
          404: error('Neither the disk nor traefik_configs has the path.'),
          413: error('The file is larger than the limit (5 MiB).'),
          503: error('The database is unavailable, or did not answer within 5 s.'),
        },
      },
    },
    '/api/v1/drift': {
      get: {
        summary: 'Drift records (drift_events), newest first: replica, file, kind, detected, repaired.',
        parameters: [
          intParam('limit', 'Records at most', LIMITS.driftLimit),
          { name: 'replica', in: 'query', required: false, description: "Only this replica's records.", schema: { type: 'string' } },
        ],
        responses: { 200: json(ref('DriftList'), 'Records.'), 400: refusals[400], 503: error('The database is unavailable.') },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        summary: 'This document.',
        responses: { 200: { description: 'OpenAPI 3.0 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/': {
      get: {
        summary: 'The operator page (HTML; its script and style are served under /ui/).',
        responses: { 200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  }),
  components: {
    schemas,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The token in API_TOKEN_FILE.' } },
  },
} as const;
