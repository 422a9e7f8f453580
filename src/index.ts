/** Public API for host applications. */
export { TraefikSyncService } from './reconcile/sync-service.js';
export type { SyncReport, ProjectResult, FileChange, SyncServiceOptions } from './reconcile/sync-service.js';
export { renderProject, layout } from './render/project.js';
export { renderStatic } from './render/static.js';
export { migrate } from './db/migrate.js';
export { connect, sql } from './db/connect.js';
export { loadProjects } from './db/load.js';
export type * from './model.js';
