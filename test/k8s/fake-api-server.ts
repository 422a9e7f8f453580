/**
 * A small in-test Kubernetes API server (node:http on 127.0.0.1) implementing, as the real
 * kube-apiserver does, exactly the endpoints traefik-sync uses:
 *
 * - `coordination.k8s.io/v1` Leases: GET, POST (create), PUT (replace) under
 *   `/apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}]`. One resourceVersion
 *   counter for the whole store (like etcd's revision), bumped on every write; 404 NotFound on an
 *   absent object; 409 AlreadyExists on create of an existing name; 409 Conflict on PUT with a
 *   stale resourceVersion; 422 Invalid on PUT without a resourceVersion (Leases do not allow
 *   unconditional update) or with a non-positive leaseDurationSeconds; PUT of an absent Lease
 *   creates it (the Lease strategy allows create-on-update).
 * - core/v1 Events: POST `/api/v1/namespaces/{ns}/events` and PATCH
 *   `/api/v1/namespaces/{ns}/events/{name}` (merge and strategic-merge patch; for the scalar
 *   fields of an Event both are a JSON merge patch). Legacy Event validation: name a DNS
 *   subdomain, involvedObject.namespace equal to the Event's namespace.
 *
 * Every request needs `Authorization: Bearer <token>` (401 otherwise) and is logged in
 * `requests` for assertions. `partition(token)` makes the server hold that client's requests
 * without answering, as if the client's node had lost the network; `holdLeaseReads(n)` answers
 * the next n lease GETs together, so n candidates read the same resourceVersion and race.
 * Errors are `Status` objects shaped like the real server's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = Record<string, any>;

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly token: string | null;
  readonly contentType: string | undefined;
  readonly body: Obj | null;
  status: number;
  /** Real time the request arrived (ms). */
  readonly at: number;
}

export interface FakeApiServer {
  readonly url: string;
  readonly requests: LoggedRequest[];
  /** Stored Leases by `ns/name`. */
  readonly leases: Map<string, Obj>;
  /** Stored Events by `ns/name`. */
  readonly events: Map<string, Obj>;
  /** A KubeConfig pointing at this server, authenticating with `token`. */
  kubeConfig(token?: string, namespace?: string): KubeConfig;
  /** Hold (never answer) the requests of `token` until heal(). */
  partition(token: string): void;
  heal(token: string): void;
  /** Answer the next `n` lease GETs only once all `n` have arrived. */
  holdLeaseReads(n: number): void;
  /** Answer every later request with this status (0 = normal service). */
  failWith(status: number): void;
  /** Store a Lease directly (as another client would have), bumping the resourceVersion. */
  putLease(namespace: string, lease: Obj): Obj;
  close(): Promise<void>;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: Obj,
  ) {
    super(body.message);
  }
}

const notFound = (resource: string, name: string) =>
  new HttpError(
    404,
    status(404, 'NotFound', `${resource} "${name}" not found`, {
      name,
      group: resource.split('.').slice(1).join('.'),
      kind: resource.split('.')[0],
    }),
  );
const invalid = (kind: string, name: string, field: string, detail: string) =>
  new HttpError(
    422,
    status(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${detail}`, {
      name,
      kind,
      causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
    }),
  );
const badRequest = (message: string) => new HttpError(400, status(400, 'BadRequest', message));

/** Start the server on a free port of 127.0.0.1. */
export async function startFakeApiServer(): Promise<FakeApiServer> {
  const requests: LoggedRequest[] = [];
  const leases = new Map<string, Obj>();
  const events = new Map<string, Obj>();
  const partitioned = new Set<string>();
  const heldByPartition = new Map<string, Array<() => void>>();
  let holdReads = 0;
  let heldReads: Array<() => void> = [];
  let failStatus = 0;
  let revision = 100;
  const nextVersion = () => String(++revision);

  const stamp = (obj: Obj, namespace: string, existing?: Obj): Obj => {
    obj.metadata = {
      ...obj.metadata,
      namespace,
      uid: existing?.metadata.uid ?? randomUUID(),
      creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: nextVersion(),
    };
    return obj;
  };

  const validateLease = (lease: Obj, name: string) => {
    const d = lease.spec?.leaseDurationSeconds;
    if (d !== undefined && d !== null && !(Number.isInteger(d) && d > 0))
      throw invalid('Lease.coordination.k8s.io', name, 'spec.leaseDurationSeconds', 'must be greater than 0');
    const t = lease.spec?.leaseTransitions;
    if (t !== undefined && t !== null && !(Number.isInteger(t) && t >= 0))
      throw invalid('Lease.coordination.k8s.io', name, 'spec.leaseTransitions', 'must be greater than or equal to 0');
  };

  const createLease = (ns: string, body: Obj, name = body.metadata?.name): Obj => {
    if (!name) throw invalid('Lease.coordination.k8s.io', '', 'metadata.name', 'Required value: name or generateName is required');
    if (body.metadata?.namespace && body.metadata.namespace !== ns)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (leases.has(`${ns}/${name}`)) {
      throw new HttpError(
        409,
        status(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`, {
          name,
          group: 'coordination.k8s.io',
          kind: 'leases',
        }),
      );
    }
    validateLease(body, name);
    const lease = stamp({ ...body, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }, ns);
    leases.set(`${ns}/${name}`, lease);
    return lease;
  };

  const handle = (method: string, path: string, contentType: string | undefined, body: Obj | null): { code: number; body: Obj } => {
    let m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (method === 'POST' && !name) return { code: 201, body: createLease(ns, body ?? {}) };
      if (method === 'GET' && name) {
        const lease = leases.get(`${ns}/${name}`);
        if (!lease) throw notFound('leases.coordination.k8s.io', name);
        return { code: 200, body: lease };
      }
      if (method === 'PUT' && name) {
        if (body?.metadata?.name !== name)
          throw badRequest(`the name of the object (${body?.metadata?.name}) does not match the name on the URL (${name})`);
        const existing = leases.get(`${ns}/${name}`);
        if (!existing)
          return { code: 201, body: createLease(ns, { ...body, metadata: { ...body.metadata, resourceVersion: undefined } }, name) };
        const rv = body.metadata.resourceVersion;
        if (!rv)
          throw invalid(
            'leases.coordination.k8s.io',
            name,
            'metadata.resourceVersion',
            'Invalid value: 0x0: must be specified for an update',
          );
        if (rv !== existing.metadata.resourceVersion) {
          throw new HttpError(
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
              { name, group: 'coordination.k8s.io', kind: 'leases' },
            ),
          );
        }
        validateLease(body, name);
        const lease = stamp({ ...body, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }, ns, existing);
        leases.set(`${ns}/${name}`, lease);
        return { code: 200, body: lease };
      }
      throw new HttpError(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (method === 'POST' && !name) {
        const ev = body ?? {};
        const evName: string | undefined = ev.metadata?.name;
        if (!evName || !DNS_SUBDOMAIN.test(evName) || evName.length > 253)
          throw invalid('Event', String(evName), 'metadata.name', 'a lowercase RFC 1123 subdomain is required');
        if (ev.metadata?.namespace && ev.metadata.namespace !== ns)
          throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        if (!ev.eventTime && ev.involvedObject?.namespace !== ns)
          throw invalid('Event', evName, 'involvedObject.namespace', 'does not match event.namespace');
        if (events.has(`${ns}/${evName}`))
          throw new HttpError(409, status(409, 'AlreadyExists', `events "${evName}" already exists`, { name: evName, kind: 'events' }));
        const stored = stamp({ ...ev, apiVersion: 'v1', kind: 'Event' }, ns);
        events.set(`${ns}/${evName}`, stored);
        return { code: 201, body: stored };
      }
      if (method === 'PATCH' && name) {
        if (contentType !== 'application/merge-patch+json' && contentType !== 'application/strategic-merge-patch+json') {
          throw new HttpError(
            415,
            status(415, 'UnsupportedMediaType', `the fake server supports merge and strategic-merge patches only, got ${contentType}`),
          );
        }
        const existing = events.get(`${ns}/${name}`);
        if (!existing) throw notFound('events', name);
        const merged = mergePatch(structuredClone(existing), body ?? {});
        const stored = stamp(merged, ns, existing);
        events.set(`${ns}/${name}`, stored);
        return { code: 200, body: stored };
      }
      throw new HttpError(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }
    throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  };

  const respond = (res: ServerResponse, entry: LoggedRequest, code: number, body: Obj) => {
    entry.status = code;
    if (res.destroyed) return;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const contentType = req.headers['content-type']?.split(';')[0];
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Obj | null = null;
      const entry: LoggedRequest = { method: req.method ?? 'GET', path, token, contentType, body: null, status: 0, at: Date.now() };
      requests.push(entry);
      try {
        body = text ? JSON.parse(text) : null;
        (entry as { body: Obj | null }).body = body;
      } catch {
        return respond(res, entry, 400, status(400, 'BadRequest', 'invalid JSON body'));
      }
      const answer = () => {
        if (failStatus) return respond(res, entry, failStatus, status(failStatus, 'InternalError', 'injected failure'));
        if (!token) return respond(res, entry, 401, status(401, 'Unauthorized', 'Unauthorized'));
        try {
          const out = handle(entry.method, path, contentType, body);
          respond(res, entry, out.code, out.body);
        } catch (err) {
          if (err instanceof HttpError) respond(res, entry, err.code, err.body);
          else respond(res, entry, 500, status(500, 'InternalError', String(err)));
        }
      };
      if (token && partitioned.has(token)) {
        const list = heldByPartition.get(token) ?? [];
        list.push(() => res.destroy());
        heldByPartition.set(token, list);
        return;
      }
      if (holdReads > 0 && entry.method === 'GET' && path.includes('/leases/')) {
        heldReads.push(answer);
        if (heldReads.length >= holdReads) {
          const go = heldReads;
          heldReads = [];
          holdReads = 0;
          for (const a of go) a();
        }
        return;
      }
      answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    leases,
    events,
    kubeConfig(token = 'test-token', namespace = 'default') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake-user', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    partition(token) {
      partitioned.add(token);
    },
    heal(token) {
      partitioned.delete(token);
      for (const drop of heldByPartition.get(token) ?? []) drop();
      heldByPartition.delete(token);
    },
    holdLeaseReads(n) {
      holdReads = n;
    },
    failWith(code) {
      failStatus = code;
    },
    putLease(namespace, lease) {
      const key = `${namespace}/${lease.metadata.name}`;
      const stored = stamp({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...structuredClone(lease) }, namespace, leases.get(key));
      leases.set(key, stored);
      return stored;
    },
    async close() {
      for (const list of heldByPartition.values()) for (const drop of list) drop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Obj, patch: Obj): Obj {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null && !Array.isArray(target[k]))
      target[k] = mergePatch(target[k], v);
    else target[k] = v;
  }
  return target;
}
