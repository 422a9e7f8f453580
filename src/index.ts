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
export { TraefikConfigService } from './config-service/service.js';
export type { ConfigServiceOptions } from './config-service/service.js';
export type {
  CreateProjectInput,
  UpdateProjectInput,
  CreateServiceInput,
  UpdateServiceInput,
  CreateDomainConfigInput,
  UpdateDomainConfigInput,
  CreateRouteConfigInput,
  UpdateRouteConfigInput,
  CreateCertificateInput,
  UpdateCertificateInput,
} from './config-service/inputs.js';
export type { ApplyResult, RollbackResult } from './config-service/operations.js';
export type {
  ProjectConfig,
  ServiceConfig,
  DomainConfig,
  RouteConfig,
  CertificateInfo,
  GeneratedFile,
  ProjectTraefikConfig,
} from './config-service/types.js';
export type { PreviewResult, PreviewFile, WaitOptions } from './config-service/sync-check.js';
export type { ProjectSpec } from './config-service/spec.js';
export type { ChangeView } from './config-service/describe.js';
export type { HistoryEntry } from './config-service/history.js';
export type { ImportOutcome, ImportOptions } from './config-service/import.js';
export type { ImportNote } from './config-service/import-read.js';
export { ValidationError, NotFoundError } from './config-service/errors.js';
export type { ValidationIssue } from './config-service/errors.js';
export { SyncTimeoutError } from './config-service/sync-check.js';
