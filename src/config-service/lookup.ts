/**
 * Small checks and lookups of the row-level API: ids, the actor, and the project a row belongs to.
 */
import { sql, type Queryable } from '../db/connect.js';
import { UserError } from '../errors.js';
import { NotFoundError } from './errors.js';
import { uuidField } from './fields.js';

/** A table whose rows belong to a project. */
export type OwnedTable = 'services' | 'domain_configs' | 'route_configs' | 'certificates';

/** Throw a {@link NotFoundError}. */
export function notFound(what: string, id: string): never {
  throw new NotFoundError(what, id);
}

/** Refuse an id that is not a UUID (one line naming the field). */
export function checkId(id: unknown, field = 'id'): void {
  if (!uuidField.safeParse(id).success) throw new UserError(`${field}: expected a UUID, got ${JSON.stringify(id) ?? String(id)}`);
}

/** The actor, if it is 1–200 printable characters on one line. */
export function checkActor(actor: string): string {
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > 200 || /[\x00-\x1f\x7f]|\p{Cs}/u.test(actor)) {
    throw new UserError(`actor: expected 1–200 printable characters, got ${JSON.stringify(actor)}`);
  }
  return actor;
}

/** The project id of a row (routes and certificates through their domain); NotFoundError naming `field` when absent. */
export async function projectOf(tx: Queryable, table: OwnedTable, id: string, field = 'id'): Promise<string> {
  const rows =
    table === 'services' || table === 'domain_configs'
      ? await tx.query(sql`SELECT project_id FROM ${sql.ident(table)} WHERE id = ${id}`)
      : table === 'route_configs'
        ? await tx.query(
            sql`SELECT d.project_id FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id WHERE r.id = ${id}`,
          )
        : await tx.query(
            sql`SELECT d.project_id FROM certificates c JOIN domain_configs d ON d.id = c.domain_config_id WHERE c.id = ${id}`,
          );
  const what = { services: 'service', domain_configs: 'domain', route_configs: 'route', certificates: 'certificate' }[table];
  if (!rows[0]) throw new NotFoundError(field === 'id' ? what : `${field}: ${what}`, id);
  return rows[0].project_id as string;
}
