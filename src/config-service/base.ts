/**
 * What every part of the config service shares: the pool, the actor, the config root as Traefik
 * sees it, and the transaction wrapper (actor set, database errors turned into field errors).
 */
import type { InternalTarget } from '../address.js';
import type { ConnectionPool, Queryable } from '../db/connect.js';
import type { RenderOptions } from '../render/types.js';
import { DEFAULT_STATIC_FACTS, type StaticFacts } from '../render/static-facts.js';
import { UserError } from '../errors.js';
import { mapDbError, type FieldOf } from './db-errors.js';
import { setActor } from './write.js';

/** Settings resolved by the service's constructor. */
export interface ServiceSettings {
  readonly actor: string;
  readonly configDir: string;
  /** Entry points and resolvers of the controller's static config (render/static-facts.ts). */
  readonly static?: StaticFacts;
  /** Providers a middleware `ref` may name (render/providers.ts). */
  readonly providers: ReadonlySet<string>;
  readonly allowedInternalTargets?: readonly InternalTarget[];
}

/** Base of TraefikConfigService: holds the pool and settings, runs audited transactions. */
export abstract class ServiceBase {
  /** The pool every call runs on. */
  protected readonly db: ConnectionPool;
  /** Who changes are attributed to (audit_log.actor). */
  readonly actor: string;
  /** Config root as Traefik sees it (certificate paths in rendered files). */
  readonly configDir: string;
  /** How the controller renders (config root, providers a `ref` may name, allowed internal targets, static config facts): every check renders the same way. */
  readonly render: RenderOptions;

  constructor(db: ConnectionPool, settings: ServiceSettings) {
    this.db = db;
    this.actor = settings.actor;
    this.configDir = settings.configDir;
    this.render = Object.freeze({
      configDir: settings.configDir,
      providers: settings.providers,
      allowedInternalTargets: settings.allowedInternalTargets ?? [],
      static: settings.static ?? DEFAULT_STATIC_FACTS,
    });
  }

  /**
   * Run `fn` in one transaction whose changes are attributed to `actor`. A database error that
   * is about the data becomes a ValidationError (fields named through `fieldOf`).
   */
  protected async transaction<T>(
    fn: (tx: Queryable) => Promise<T>,
    options: { actor?: string; fieldOf?: FieldOf; fullDomain?: string } = {},
  ): Promise<T> {
    try {
      return await this.db.tx(async (tx) => {
        await setActor(tx, options.actor ?? this.actor);
        return fn(tx);
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw (await mapDbError(this.db, err, options.fieldOf, { fullDomain: options.fullDomain })) ?? err;
    }
  }
}
