/** What rendering takes besides a project's rows, and what it gives back. */
import type { InternalTarget } from '../address.js';
import type { RenderedFile } from '../model.js';
import type { StaticFacts } from './static-facts.js';

/** Inputs of rendering that do not come from the project's rows. */
export interface RenderOptions {
  /** Where Traefik sees the config root (certificate paths in domains.yml are absolute). */
  readonly configDir: string;
  /** Entry points and resolvers the static configuration defines (default: the default settings'). */
  readonly static?: StaticFacts;
  /** Providers a middleware `ref` may name (render/providers.ts); undefined: any but `file`. */
  readonly providers?: ReadonlySet<string>;
  /** Upstreams at internal addresses allowed anyway (ALLOWED_INTERNAL_TARGETS; render/targets.ts). */
  readonly allowedInternalTargets?: readonly InternalTarget[];
}

/** Traefik documents of one project, by relative path (for validation and cross-checks). */
export type Documents = Map<string, DynamicDocument>;

export interface DynamicDocument {
  http?: {
    routers?: Record<string, Record<string, unknown>>;
    services?: Record<string, Record<string, unknown>>;
    middlewares?: Record<string, Record<string, unknown>>;
    serversTransports?: Record<string, Record<string, unknown>>;
  };
  tls?: {
    certificates?: Array<Record<string, unknown>>;
    options?: Record<string, Record<string, unknown>>;
    stores?: Record<string, Record<string, unknown>>;
  };
  /** TCP and UDP routes (render/l4.ts). */
  tcp?: L4Section;
  udp?: L4Section;
}

/** The routers and services of a `tcp:` or `udp:` section. */
export interface L4Section {
  routers?: Record<string, Record<string, unknown>>;
  services?: Record<string, Record<string, unknown>>;
}

/** Result of rendering one project. */
export interface RenderedProject {
  readonly projectId: string;
  readonly projectName: string;
  readonly version: number;
  /** Files to write; empty when `problems` is not. */
  readonly files: RenderedFile[];
  readonly documents: Documents;
  /** Why the project cannot be written, each naming the row and field. */
  readonly problems: string[];
  /** What is written but an operator must know (a transport that skips verification); absent: none. */
  readonly warnings?: string[];
}
