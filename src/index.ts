/** Public API for host applications. */
export { TraefikSyncService } from './reconcile/sync-service.js';
export type { SyncReport, ProjectResult, FileChange, SyncServiceOptions } from './reconcile/sync-service.js';
export { renderProject, layout } from './render/project.js';
export { renderStatic } from './render/static.js';
export { migrate } from './db/migrate.js';
export { connect, sql } from './db/connect.js';
export { loadProjects } from './db/load.js';
export type * from './model.js';
export { TraefikFileSystemService } from './file-service/service.js';
export type { FileSystemServiceOptions } from './file-service/service.js';
export type { DirectoryTree, TreeEntry, TreeOptions, FileContent, FileDownload, FileDiff, DriftRecordView } from './file-service/types.js';
export { FileServiceError } from './file-service/errors.js';
export { resolveSafePath, isRestrictedPath } from './file-service/paths.js';
export { fileApiRoutes } from './file-service/http.js';
export { openApiDocument } from './file-service/openapi.js';
