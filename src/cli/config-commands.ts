/**
 * CLI commands of the config service (docs/contract.md §3): apply, export, import, history, rollback.
 * Validation errors print one line each (`FILE:LINE: path: message`) and exit 1; nothing is
 * written unless everything is valid. Key material is never printed.
 */
import { open, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { withDatabase, type Command, type CommandContext } from './command.js';
import { progressLine } from './progress.js';
import { UserError, quote } from '../errors.js';
import { changeLine, countLine } from '../config-service/describe.js';
import { ValidationError, formatIssue } from '../config-service/errors.js';
import type { ApplyResult } from '../config-service/operations.js';
import { TraefikConfigService } from '../config-service/service.js';
import { loadSpecFile } from '../config-service/spec.js';

const ACTOR = { actor: { type: 'string' } } as const;

/** `--actor`, else `cli:<login name>`. */
function actorOf(values: CommandContext['values']): string {
  if (typeof values.actor === 'string') return values.actor;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Print every issue of a ValidationError (prefixed with the file) and return exit code 1; rethrow anything else. */
function reportInvalid(err: unknown, ctx: CommandContext, file?: string): number {
  if (!(err instanceof ValidationError)) throw err;
  for (const i of err.issues) ctx.err(`${file ? `${file}${i.line ? `:${i.line}` : ''}: ` : ''}${formatIssue(i)}`);
  ctx.err(`${err.issues.length} problem(s); nothing was written`);
  return 1;
}

function printResult(r: ApplyResult, out: (line: string) => void): void {
  const verb = r.dryRun ? 'would change' : 'changed';
  for (const w of r.warnings ?? []) out(`warning: ${w}`);
  if (!r.changes.length) {
    out(`project ${r.project}: no changes`);
    return;
  }
  for (const c of r.changes) out(`${r.dryRun ? '(dry run) ' : ''}${changeLine(c)}`);
  out(`project ${r.project}: ${verb} ${countLine(r.changes)}`);
}

function service(db: Parameters<Parameters<typeof withDatabase>[1]>[0], ctx: CommandContext): TraefikConfigService {
  return new TraefikConfigService(db, {
    actor: actorOf(ctx.values),
    configDir: ctx.config.configDir,
    traefikStatic: ctx.config.traefikStatic,
    providers: ctx.config.traefikProviders,
    allowedInternalTargets: ctx.config.allowedInternalTargets,
  });
}

function required(ctx: CommandContext, flag: string, usage: string): string {
  const v = ctx.values[flag];
  if (typeof v !== 'string' || v === '') throw new UserError(`--${flag} is required (usage: ${usage})`, 2);
  return v;
}

/** Fail with one line naming -f when `file` cannot be opened as a file (missing, a directory, no permission). */
async function checkReadable(file: string): Promise<void> {
  let code: string | undefined;
  try {
    const handle = await open(file, 'r');
    try {
      if ((await handle.stat()).isDirectory()) code = 'EISDIR';
    } finally {
      await handle.close();
    }
  } catch (err) {
    code = (err as NodeJS.ErrnoException).code ?? 'error';
  }
  if (code === undefined) return;
  const why =
    { ENOENT: 'no such file', ENOTDIR: 'no such file', EISDIR: 'is a directory', EACCES: 'permission denied', EPERM: 'permission denied' }[
      code
    ] ?? code;
  throw new UserError(`-f: cannot read ${JSON.stringify(file)}: ${why}`);
}

/** `apply`. */
export const applyCommand: Command = {
  summary: 'apply a project spec (YAML, docs/spec-format.md) in one transaction; --dry-run shows the changes',
  usage: 'traefik-sync apply -f FILE [--dry-run] [--actor NAME]',
  options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' }, ...ACTOR },
  async run(ctx) {
    const file = required(ctx, 'file', 'traefik-sync apply -f FILE');
    await checkReadable(file);
    let desired;
    try {
      desired = await loadSpecFile(file);
    } catch (err) {
      return reportInvalid(err, ctx, file);
    }
    return withDatabase(ctx.config, async (db) => {
      try {
        const [r] = await service(db, ctx).applyProjects([desired], { dryRun: ctx.values['dry-run'] === true });
        printResult(r!, ctx.out);
        return 0;
      } catch (err) {
        return reportInvalid(err, ctx, file);
      }
    });
  },
};

/** `export`. */
export const exportCommand: Command = {
  summary: 'print the spec of a project (what apply takes); certificates by fingerprint, or as files with --cert-dir',
  usage: 'traefik-sync export --project NAME [--cert-dir DIR] [-o FILE]',
  options: { project: { type: 'string' }, 'cert-dir': { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const name = required(ctx, 'project', 'traefik-sync export --project NAME');
    const output = typeof ctx.values.output === 'string' ? ctx.values.output : undefined;
    const certDir = typeof ctx.values['cert-dir'] === 'string' ? ctx.values['cert-dir'] : undefined;
    return withDatabase(ctx.config, async (db) => {
      const exported = await service(db, ctx).exportSpec(name, { certDir, specDir: output ? path.dirname(path.resolve(output)) : '.' });
      if (output) await writeFile(output, exported.yaml, { mode: 0o644 });
      else ctx.out(exported.yaml.trimEnd());
      if (exported.files.length) ctx.err(`wrote ${exported.files.length} certificate/key file(s) (mode 0600) to ${certDir}`);
      return 0;
    });
  },
};

/** `import`. */
export const importCommand: Command = {
  summary: 'import a directory of Traefik dynamic YAML files into new projects; reports what could not be mapped',
  usage: 'traefik-sync import DIR [--project-prefix PREFIX | --project NAME] [--dry-run] [--strict]',
  options: {
    'project-prefix': { type: 'string' },
    project: { type: 'string' },
    'dry-run': { type: 'boolean' },
    strict: { type: 'boolean' },
    ...ACTOR,
  },
  maxArguments: 1,
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir) throw new UserError('usage: traefik-sync import DIR [--project-prefix PREFIX | --project NAME] [--dry-run]', 2);
    const prefix = typeof ctx.values['project-prefix'] === 'string' ? ctx.values['project-prefix'] : undefined;
    const project = typeof ctx.values.project === 'string' ? ctx.values.project : undefined;
    return withDatabase(ctx.config, async (db) => {
      let outcome;
      // On a terminal: "120 / 2,000 projects checked · 85/s · 22 s left", then "… written".
      const lines = {
        checked: progressLine(process.stderr, 'projects checked'),
        written: progressLine(process.stderr, 'projects written'),
      };
      try {
        outcome = await service(db, ctx).importDirectory(dir, {
          prefix,
          project,
          dryRun: ctx.values['dry-run'] === true,
          onProgress: (phase, done, total) => {
            lines[phase].update(done, total);
            if (done === total) lines[phase].end();
          },
        });
      } catch (err) {
        return reportInvalid(err, ctx);
      } finally {
        lines.checked.end();
        lines.written.end();
      }
      const dry = ctx.values['dry-run'] === true ? '(dry run) would import' : 'imported';
      for (const p of outcome.projects)
        ctx.out(
          `${dry} project ${p.name}: ${p.services} service(s), ${p.domains} domain(s), ${p.routes} route(s)${p.l4Routes ? `, ${p.l4Routes} TCP/UDP route(s)` : ''}`,
        );
      if (!outcome.projects.length) ctx.out('nothing was imported');
      const skipped = outcome.notes.filter((n) => n.status === 'skipped');
      const adjusted = outcome.notes.filter((n) => n.status === 'adjusted');
      if (adjusted.length) ctx.out(`imported with changes (${adjusted.length}):`);
      for (const n of adjusted) ctx.out(`  ${n.file ? `${n.file}: ` : ''}${n.item}: ${n.reason}`);
      if (skipped.length) ctx.out(`not imported (${skipped.length}):`);
      for (const n of skipped) ctx.out(`  ${n.file ? `${n.file}: ` : ''}${n.item}: ${n.reason}`);
      return ctx.values.strict === true && skipped.length ? 1 : 0;
    });
  },
};

/** `history`. */
export const historyCommand: Command = {
  summary: "a project's audit log: who changed what, when (newest first)",
  usage: 'traefik-sync history --project NAME [--limit N]',
  options: { project: { type: 'string' }, limit: { type: 'string' } },
  async run(ctx) {
    const name = required(ctx, 'project', 'traefik-sync history --project NAME');
    const limitText = typeof ctx.values.limit === 'string' ? ctx.values.limit : '50';
    if (!/^\d{1,5}$/.test(limitText) || Number(limitText) < 1)
      throw new UserError(`--limit: expected a number 1–99999, got ${quote(limitText)}`, 2);
    return withDatabase(ctx.config, async (db) => {
      const { entries } = await service(db, ctx).history(name, { limit: Number(limitText) });
      for (const e of entries)
        ctx.out(`${String(e.id).padStart(6)}  ${e.at.toISOString()}  ${e.actor}  ${e.op.padEnd(6)} ${e.table.padEnd(14)} ${e.summary}`);
      if (!entries.length) ctx.out(`no audit entries for project ${name}`);
      return 0;
    });
  },
};

/** `rollback`. */
export const rollbackCommand: Command = {
  summary: "restore a project's rows as of an audit entry id or a time (one transaction, itself audited)",
  usage: 'traefik-sync rollback --project NAME --to ID|TIME [--dry-run] [--skip-certificates]',
  options: {
    project: { type: 'string' },
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'skip-certificates': { type: 'boolean' },
    ...ACTOR,
  },
  async run(ctx) {
    const name = required(ctx, 'project', 'traefik-sync rollback --project NAME --to ID|TIME');
    const to = required(ctx, 'to', 'traefik-sync rollback --project NAME --to ID|TIME');
    return withDatabase(ctx.config, async (db) => {
      try {
        const r = await service(db, ctx).rollback(name, to, {
          dryRun: ctx.values['dry-run'] === true,
          skipCertificates: ctx.values['skip-certificates'] === true,
        });
        ctx.out(
          `${r.dryRun ? 'would roll back' : 'rolled back'} project ${r.project} to audit entry ${r.point.id} (${r.point.at.toISOString()})`,
        );
        printResult(r, ctx.out);
        for (const n of r.notes) ctx.err(`note: ${n}`);
        return 0;
      } catch (err) {
        return reportInvalid(err, ctx);
      }
    });
  },
};
