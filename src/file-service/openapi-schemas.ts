/** JSON schemas (OpenAPI 3.0 dialect) of every JSON answer the sidecar gives. */
import { DNS_LABEL_PATTERN } from '../model.js';

const nullableString = { type: 'string', nullable: true } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const driftKind = { type: 'string', enum: ['modified', 'missing', 'unexpected'] } as const;

/** `components.schemas` of the OpenAPI document. */
export const schemas = {
  Error: {
    type: 'object',
    description: 'A refusal or failure; `error` names the problem in one line.',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { type: 'string' } },
  },
  Health: {
    type: 'object',
    required: ['status', 'heartbeatAgeMs'],
    properties: { status: { type: 'string', enum: ['ok', 'stalled'] }, heartbeatAgeMs: { type: 'number', minimum: 0 } },
  },
  Ready: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string' } },
  },
  ProjectStatus: {
    type: 'object',
    required: ['name', 'inSync', 'drift', 'lastError', 'lastSyncAt'],
    properties: {
      name: nullableString,
      inSync: { type: 'boolean' },
      drift: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'kind', 'repaired'],
          properties: { path: { type: 'string' }, kind: driftKind, repaired: { type: 'boolean' } },
        },
      },
      lastError: nullableString,
      lastSyncAt: { ...isoTime, nullable: true },
      warnings: {
        type: 'array',
        items: { type: 'string' },
        description:
          "Settings written as asked that weaken security, e.g. a route whose upstream's certificate is not verified (transport.insecureSkipVerify); absent when there are none.",
      },
      live: {
        type: 'boolean',
        nullable: true,
        description:
          "Traefik serves the project's current files (its routers, services and middlewares as written, none in error); null when Traefik's API is not read (TRAEFIK_API_URL) or not compared yet.",
      },
      liveDetail: {
        ...nullableString,
        description: 'Why it is not live (a change Traefik has not loaded yet, the first difference seen, errors).',
      },
      traefikErrors: {
        type: 'array',
        description: "The project's objects that Traefik reports disabled or in warning, with Traefik's own messages.",
        items: {
          type: 'object',
          required: ['kind', 'name', 'status', 'messages'],
          properties: {
            kind: { type: 'string', enum: ['router', 'service', 'middleware'] },
            name: { type: 'string', description: '`name@file`' },
            status: { type: 'string', enum: ['disabled', 'warning'] },
            messages: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      shadowedBy: {
        type: 'array',
        description:
          "Routers traefik-sync did not write that Traefik serves for one of the project's hosts (another provider, a file not ours under dynamic/).",
        items: {
          type: 'object',
          required: ['router', 'rule', 'host', 'source'],
          properties: {
            router: { type: 'string', description: '`name@provider`' },
            rule: { type: 'string' },
            host: { type: 'string', description: 'The host it matches; empty when it has the name of one of our routers.' },
            source: { type: 'string', description: '`provider <name>`, or the file under dynamic/.' },
          },
        },
      },
    },
  },
  Status: {
    type: 'object',
    description: 'This replica: leadership, database, queue, last sync, current drift and per-project state (keyed by project id).',
    required: ['replica', 'leader', 'ready', 'databaseUp', 'queueDepth', 'lastSyncAt', 'lastError', 'drift', 'projects'],
    properties: {
      replica: { type: 'string' },
      leader: { type: 'boolean' },
      ready: { type: 'boolean' },
      readySource: {
        type: 'string',
        enum: ['sync', 'volume'],
        nullable: true,
        description:
          'What made it ready: its own first full sync, or (until that finishes) a config a previous run finished on the volume; null while not ready.',
      },
      databaseUp: { type: 'boolean' },
      listenConnected: { type: 'boolean' },
      queueDepth: { type: 'integer', minimum: 0 },
      lastSyncAt: { ...isoTime, nullable: true },
      lastSuccessAt: { ...isoTime, nullable: true },
      lastError: nullableString,
      deleteGuardBlocked: { type: 'boolean' },
      traefikRestart: {
        type: 'object',
        description: 'Whether Traefik must restart to read the static config now on the volume (it reads it only at start).',
        required: ['needed', 'since', 'reason'],
        properties: { needed: { type: 'boolean' }, since: { ...isoTime, nullable: true }, reason: nullableString },
      },
      drift: {
        type: 'array',
        items: { type: 'object', required: ['path', 'kind'], properties: { path: { type: 'string' }, kind: driftKind } },
      },
      projects: { type: 'object', additionalProperties: { $ref: '#/components/schemas/ProjectStatus' } },
      traefik: {
        type: 'object',
        nullable: true,
        description: 'What Traefik serves, from its API (README "Traefik in the loop").',
        required: ['apiRead', 'up', 'pending', 'configLagSeconds', 'unownedFiles'],
        properties: {
          apiRead: { type: 'boolean', description: 'TRAEFIK_API_URL is set.' },
          up: { type: 'boolean', nullable: true, description: "Traefik's API answered the last read (null: not read)." },
          lastCheckAt: { ...isoTime, nullable: true },
          lastError: nullableString,
          pending: { type: 'integer', minimum: 0, description: 'Projects with a written change Traefik does not serve yet.' },
          configLagSeconds: { type: 'number', minimum: 0, description: 'Age of the oldest of those changes (0 when none).' },
          errors: { type: 'integer', minimum: 0 },
          unownedFiles: {
            type: 'array',
            items: { type: 'string' },
            description: 'Files under dynamic/ without our header (Traefik loads them).',
          },
        },
      },
    },
  },
  Projects: {
    type: 'array',
    description: 'Project directories under dynamic/, sorted.',
    items: { type: 'string', pattern: DNS_LABEL_PATTERN },
  },
  TreeEntry: {
    type: 'object',
    required: ['name', 'path', 'type'],
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      path: { type: 'string', description: 'Relative to the config root; pass it back as `path`.' },
      type: { type: 'string', enum: ['file', 'directory', 'symlink', 'other'] },
      size: { type: 'integer', minimum: 0 },
      modifiedAt: isoTime,
      owned: { type: 'boolean', description: 'The file carries the traefik-sync header.' },
      restricted: {
        type: 'boolean',
        description:
          'Key material, or a link outside the root or to keys: never served. A restricted directory is never listed (no children, not truncated).',
      },
      target: { ...nullableString, description: 'Symbolic links: target relative to the root when inside and servable.' },
      children: { type: 'array', items: { $ref: '#/components/schemas/TreeEntry' } },
      total: { type: 'integer', minimum: 0 },
      truncated: {
        type: 'boolean',
        description:
          'Children missing or cut short (depth, entry budget, scan cap, unreadable); ask for this path to see more. Never set on restricted entries: asking for those answers 403.',
      },
    },
  },
  DirectoryTree: {
    type: 'object',
    required: ['name', 'path', 'type', 'modifiedAt', 'children', 'total', 'offset', 'limit', 'nextOffset', 'depth', 'truncated'],
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      path: { type: 'string' },
      type: { type: 'string', enum: ['directory'] },
      modifiedAt: isoTime,
      children: { type: 'array', items: { $ref: '#/components/schemas/TreeEntry' } },
      total: { type: 'integer', minimum: 0 },
      offset: { type: 'integer', minimum: 0 },
      limit: { type: 'integer', minimum: 1 },
      nextOffset: { type: 'integer', minimum: 0, nullable: true },
      depth: { type: 'integer', minimum: 0 },
      truncated: {
        type: 'boolean',
        description:
          'True exactly when the answer pages (offset > 0 or nextOffset set, or the directory has more entries than are read) or some entry in it is truncated.',
      },
    },
  },
  FileContent: {
    type: 'object',
    required: ['path', 'content', 'masked', 'checksum', 'size', 'modifiedAt', 'owned', 'projectId', 'inSync', 'recordedChecksum'],
    additionalProperties: false,
    properties: {
      path: { type: 'string' },
      content: { type: 'string', description: 'The text, with secrets (credentials, password hashes, URL passwords) masked as ***.' },
      masked: { type: 'integer', minimum: 0, description: 'How many secret values were masked in content.' },
      checksum: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
      size: { type: 'integer', minimum: 0 },
      modifiedAt: isoTime,
      owned: { type: 'boolean' },
      projectId: { ...nullableString, format: 'uuid' },
      inSync: {
        type: 'boolean',
        nullable: true,
        description:
          'Disk checksum equals traefik_configs.checksum; null without a database, or when it fails or does not answer within 1 s (the content still comes from disk).',
      },
      recordedChecksum: { ...nullableString, pattern: '^sha256:[0-9a-f]{64}$' },
    },
  },
  FileDiff: {
    type: 'object',
    required: ['path', 'recorded', 'onDisk', 'inSync', 'diff'],
    additionalProperties: false,
    properties: {
      path: { type: 'string' },
      recorded: { type: 'boolean' },
      onDisk: { type: 'boolean' },
      inSync: { type: 'boolean' },
      diff: {
        type: 'string',
        description: 'Unified diff, a/ = disk, b/ = database; empty when in sync; key material and other secrets masked.',
      },
    },
  },
  DriftRecord: {
    type: 'object',
    required: ['id', 'replica', 'project', 'file', 'kind', 'detectedAt', 'repaired', 'repairedAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'integer' },
      replica: { type: 'string' },
      project: nullableString,
      file: { type: 'string' },
      kind: driftKind,
      detectedAt: isoTime,
      repaired: { type: 'boolean' },
      repairedAt: { ...isoTime, nullable: true },
    },
  },
  DriftList: {
    type: 'object',
    required: ['records'],
    additionalProperties: false,
    properties: { records: { type: 'array', items: { $ref: '#/components/schemas/DriftRecord' } } },
  },
} as const;
