/**
 * The Dockerfile's structure, checked by parsing its text (no Docker engine here): a build
 * stage and a runtime stage on node:24-bookworm-slim, production-only dependencies without
 * optional ones or install scripts, the compiled output and data folders copied, a numeric
 * non-root USER, the CLI as ENTRYPOINT with `run` as default command, a /healthz HEALTHCHECK.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, repoRoot } from './helpers.js';

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly body: Instruction[];
}

/** Dockerfile text → instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return; // comment inside a continuation
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full)!;
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start });
  });
  if (pending !== '') throw new Error('Dockerfile ends in a line continuation');
  return out;
}

/** Instructions grouped by FROM, with global ARG defaults substituted into the image. */
function stages(instructions: readonly Instruction[]): Stage[] {
  const args = new Map<string, string>();
  const result: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      const image = m[1]!.replace(/\$\{?(\w+)\}?/g, (_, name: string) => args.get(name) ?? `<unset ${name}>`);
      result.push({ from: image, name: m[2] ?? null, body: [] });
    } else if (result.length === 0) {
      if (ins.op !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: only ARG may come before the first FROM`);
      const [name, value] = ins.args.split('=', 2);
      if (name && value !== undefined) args.set(name, value);
    } else {
      result[result.length - 1]!.body.push(ins);
    }
  }
  return result;
}

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const all = parseDockerfile(dockerfile);
const [build, runtime] = stages(all);
const ops = (stage: Stage | undefined, op: string) => (stage?.body ?? []).filter((i) => i.op === op);
const last = (stage: Stage | undefined, op: string) => ops(stage, op).at(-1);
const json = (ins: Instruction | undefined): unknown => JSON.parse(ins?.args ?? 'null');

describe('Dockerfile', () => {
  it('has exactly two stages, build then runtime, both from node:24-bookworm-slim', () => {
    expect(stages(all).map((s) => [s.name, s.from])).toEqual([
      ['build', 'node:24-bookworm-slim'],
      ['runtime', 'node:24-bookworm-slim'],
    ]);
  });

  it('the build stage installs from the lockfile and compiles with the prepare/build script', () => {
    const runs = ops(build, 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json && tsc -p tsconfig\.browser\.json$/);
    expect(ops(build, 'COPY').some((i) => /package-lock\.json/.test(i.args))).toBe(true);
  });

  it('the runtime stage installs production dependencies only, without optional ones or install scripts', () => {
    const ci = ops(runtime, 'RUN')
      .map((i) => i.args)
      .filter((r) => /\bnpm ci\b/.test(r));
    expect(ci).toHaveLength(1);
    for (const flag of ['--omit=dev', '--omit=optional', '--ignore-scripts']) expect(ci[0]).toContain(flag);
    expect(ops(runtime, 'COPY').some((i) => /^package\.json package-lock\.json \.\/$/.test(i.args))).toBe(true);
  });

  it('copies dist, bin, sql, schemas and examples from the build stage into /app', () => {
    expect(ops(runtime, 'WORKDIR').at(-1)?.args).toBe('/app');
    const copies = ops(runtime, 'COPY')
      .filter((i) => i.args.startsWith('--from=build '))
      .map((i) => i.args.replace('--from=build ', ''));
    for (const dir of ['dist', 'bin', 'sql', 'schemas', 'examples']) expect(copies).toContain(`/app/${dir} ./${dir}`);
    // Folders the package may not have yet are created by the build stage, so the copy cannot fail.
    for (const dir of ['schemas', 'examples']) {
      const made = ops(build, 'RUN').some((i) => new RegExp(`mkdir -p [^&]*\\b${dir}\\b`).test(i.args));
      expect(exists(path.join(repoRoot, dir)) || made, dir).toBe(true);
    }
    for (const dir of ['bin', 'sql']) expect(exists(path.join(repoRoot, dir)), dir).toBe(true);
  });

  it('runs as a numeric non-root user (uid 10001) that the image creates', () => {
    const user = last(runtime, 'USER')?.args;
    expect(user).toBe('10001:10001');
    expect(ops(runtime, 'RUN').some((i) => /useradd .*--uid 10001/.test(i.args))).toBe(true);
    // Nothing after USER switches back.
    const afterUser = runtime!.body.slice(runtime!.body.findIndex((i) => i.op === 'USER'));
    expect(afterUser.filter((i) => i.op === 'USER')).toHaveLength(1);
  });

  it('writes only to the config volume: it is created, owned by the runtime user and declared a VOLUME', () => {
    expect(json(last(runtime, 'VOLUME'))).toEqual(['/app/traefik-configs']);
    expect(ops(runtime, 'RUN').some((i) => /chown 10001:10001 \/app\/traefik-configs/.test(i.args))).toBe(true);
  });

  it('starts the CLI with `run` by default, exec form', () => {
    expect(json(last(runtime, 'ENTRYPOINT'))).toEqual(['node', '/app/bin/traefik-sync.js']);
    expect(json(last(runtime, 'CMD'))).toEqual(['run']);
    expect(exists(path.join(repoRoot, 'bin/traefik-sync.js'))).toBe(true);
  });

  it("exposes 9090 and health-checks /healthz with node's fetch (no curl in the image)", () => {
    expect(ops(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['9090']);
    const hc = last(runtime, 'HEALTHCHECK')!.args;
    const cmd = JSON.parse(hc.slice(hc.indexOf('CMD ') + 4)) as string[];
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(cmd[2]).toContain("fetch('http://127.0.0.1:9090/healthz'");
    expect(cmd[2]).toContain('process.exit(1)');
  });

  it('fetches nothing from the network by ADD', () => {
    expect(all.filter((i) => i.op === 'ADD')).toEqual([]);
  });

  it('.dockerignore keeps node_modules, dist, .git, tests and local state out of the context', () => {
    const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.git', 'test', 'traefik-configs', '.traefik-sync-demo', '.env']) expect(ignored).toContain(p);
    for (const needed of [
      'src',
      'bin',
      'sql',
      'schemas',
      'examples',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'tsconfig.browser.json',
    ]) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});
