/**
 * One PostgreSQL per test run: DATABASE_URL when given, else an embedded server in a fresh
 * temp folder. Each test file creates its own database from it (see db.ts).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('adminUrl', process.env.DATABASE_URL);
    return async () => {};
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'traefik-sync-test-pg-'));
  await chmod(dir, 0o755); // the server runs as `postgres` when we are root
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'data'),
    password: 'test-secret-pw',
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
  });
  project.provide('adminUrl', server.url);
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}
