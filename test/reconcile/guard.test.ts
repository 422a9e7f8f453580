/**
 * The delete guard's verdict (src/reconcile/guard.ts), unit by unit, with the real planner: a pass
 * may remove up to `fraction` of the managed files AND up to `fraction` of the routers they
 * define; one more of either is refused. Each half is tested alone (certificates, keys and
 * middleware files carry no routers; a rewritten file can drop routers without a file deleted),
 * removals of the window add up, and deleting ONE project (a tombstone) is exempt while several
 * are judged. Before these, every guard scenario removed most routers too, so mutating the file
 * half, the comparison or the window went unnoticed.
 */
import { describe, expect, it } from 'vitest';
import type { DiskFile } from '../../src/fs/scan.js';
import type { RenderedFile } from '../../src/model.js';
import { guardVerdict, type RecentRemovals } from '../../src/reconcile/guard.js';
import { RemovalWindow } from '../../src/reconcile/pass.js';
import { plan } from '../../src/reconcile/plan.js';
import type { GuardVerdict, Unit } from '../../src/reconcile/report.js';
import { renderedFile } from '../../src/render/project.js';
import { checksumOf, yamlFile } from '../../src/render/serialize.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A generated file of project `n` defining `routers` routers. */
function text(n: number, routers: number, tag = ''): string {
  const r = Object.fromEntries(
    Array.from({ length: routers }, (_, i) => [`p${n}_r${i}${tag}`, { rule: `Host(\`h${i}.example\`)`, service: 's' }]),
  );
  return yamlFile({ id: id(n), name: `p${n}` }, routers ? { http: { routers: r } } : { http: {} });
}

/** The file on disk: ours, intact. */
function disk(path: string, n: number, routers = 0): DiskFile {
  const content = path.endsWith('.key') || path.endsWith('.crt') ? `pem ${path}` : text(n, routers);
  return {
    path,
    owned: true,
    projectId: id(n),
    checksum: checksumOf(content),
    routers,
    intact: true,
    ino: 1,
    size: content.length,
    mtimeMs: 0,
    mode: path.endsWith('.key') ? 0o600 : 0o644,
  };
}

/** The file as the database wants it now (another text when `tag` is given). */
function wanted(path: string, n: number, routers: number, tag: string): RenderedFile {
  return renderedFile(path, text(n, routers, tag), 'dynamic', 0o644, id(n));
}

interface UnitSpec {
  readonly n?: number;
  /** Files on disk the database no longer wants (removed by the pass). */
  readonly gone?: ReadonlyArray<readonly [string, number]>;
  /** Files on disk rewritten: [path, routers before, routers after]. */
  readonly rewritten?: ReadonlyArray<readonly [string, number, number]>;
  /** New files the pass creates: [path, routers]. */
  readonly created?: ReadonlyArray<readonly [string, number]>;
  readonly tombstoned?: boolean;
}

function unit(spec: UnitSpec): Unit {
  const n = spec.n ?? 1;
  const actual = [...(spec.gone ?? []).map(([p, r]) => disk(p, n, r)), ...(spec.rewritten ?? []).map(([p, before]) => disk(p, n, before))];
  const desired = [
    ...(spec.rewritten ?? []).map(([p, , after]) => wanted(p, n, after, '-new')),
    ...(spec.created ?? []).map(([p, r]) => wanted(p, n, r, '')),
  ];
  return {
    projectId: id(n),
    projectName: spec.tombstoned ? null : `p${n}`,
    desired,
    actual,
    problems: [],
    version: 1,
    changedAt: null,
    ...(spec.tombstoned ? { tombstoned: true } : {}),
  };
}

/** The verdict on these units, planned as a pass plans them. */
function judge(
  units: readonly Unit[],
  volume: { fraction?: number; files: number; routers: number; recent?: RecentRemovals },
): GuardVerdict | null {
  const plans = new Map(
    units.map((u) => [u, plan({ desired: u.desired, actual: u.actual, written: new Map(), recorded: new Map(), driftMode: 'repair' })]),
  );
  return guardVerdict(plans, volume.fraction ?? 0.5, volume.files, volume.routers, volume.recent);
}

/** `count` files without routers (certificates, keys, middleware files) that a pass removes. */
const routerless = (count: number) =>
  Array.from(
    { length: count },
    (_, i) => [[`ssl/certs/d${i}.example.crt`, `ssl/keys/d${i}.example.key`, `dynamic/p${i}/middleware.yml`][i % 3]!, 0] as const,
  );

describe('the file half, at the boundary (routers untouched)', () => {
  // [fraction, managed files, files removed, refused?]
  const table = [
    [0.5, 10, 5, false],
    [0.5, 10, 6, true],
    [0.5, 11, 5, false],
    [0.5, 11, 6, true],
    [0.25, 8, 2, false],
    [0.25, 8, 3, true],
    [0.1, 50, 5, false],
    [0.1, 50, 6, true],
    [0, 10, 1, true],
    [1, 4, 4, false],
  ] as const;
  it.each(table)('fraction %d of %d files: removing %d refused: %s', (fraction, files, removed, refused) => {
    const v = judge([unit({ gone: routerless(removed) })], { fraction, files, routers: 40 });
    if (!refused) {
      expect(v).toBeNull();
      return;
    }
    expect(v).toEqual({
      deletes: removed,
      managed: files,
      routersRemoved: 0,
      routersManaged: 40,
      fraction,
      limit: Math.floor(fraction * files),
    });
  });
});

describe('the router half, at the boundary (no file removed)', () => {
  // [fraction, routers on the volume, routers dropped from one rewritten file, refused?]
  const table = [
    [0.5, 10, 5, false],
    [0.5, 10, 6, true],
    [0.5, 9, 4, false],
    [0.5, 9, 5, true],
    [0.2, 30, 6, false],
    [0.2, 30, 7, true],
  ] as const;
  it.each(table)('fraction %d of %d routers: dropping %d refused: %s', (fraction, routers, dropped, refused) => {
    // One file holds every router; the database now wants it with `dropped` fewer.
    const v = judge([unit({ rewritten: [['dynamic/p1/services/app.yml', routers, routers - dropped]] })], {
      fraction,
      files: 100,
      routers,
    });
    if (!refused) {
      expect(v).toBeNull();
      return;
    }
    expect(v).toEqual({
      deletes: 0,
      managed: 100,
      routersRemoved: dropped,
      routersManaged: routers,
      fraction,
      limit: Math.floor(fraction * routers),
    });
  });
});

describe('each half refuses alone', () => {
  it('files over, routers under: certificates, keys and middleware files carry no routers', () => {
    const v = judge(
      [
        unit({
          gone: [
            ['ssl/certs/a.example.crt', 0],
            ['ssl/keys/a.example.key', 0],
            ['ssl/certs/b.example.crt', 0],
            ['ssl/keys/b.example.key', 0],
            ['dynamic/p1/middleware.yml', 0],
            ['dynamic/p1/domains.yml', 0],
          ],
        }),
      ],
      { files: 10, routers: 20 },
    );
    expect(v).toMatchObject({ deletes: 6, managed: 10, routersRemoved: 0, limit: 5 });
  });

  it('routers over, files under: one removed file held most routers', () => {
    const v = judge([unit({ gone: [['dynamic/p1/services/app.yml', 15]] })], { files: 40, routers: 20 });
    expect(v).toMatchObject({ deletes: 1, managed: 40, routersRemoved: 15, routersManaged: 20, limit: 10 });
  });

  it('routers over, no file removed: an emptied route table rewrites files with fewer routers', () => {
    const v = judge(
      [
        unit({
          n: 1,
          rewritten: [
            ['dynamic/p1/services/a.yml', 6, 1],
            ['dynamic/p1/services/b.yml', 6, 0],
          ],
        }),
      ],
      { files: 40, routers: 20 },
    );
    expect(v).toMatchObject({ deletes: 0, routersRemoved: 11, routersManaged: 20, limit: 10 });
  });

  it('under both halves it proceeds', () => {
    expect(judge([unit({ gone: [['dynamic/p1/services/app.yml', 10], ...routerless(4)] })], { files: 10, routers: 20 })).toBeNull();
  });

  it('routers the pass sees count as managed even when the volume count lags behind', () => {
    // routersOnDisk 0 (not counted yet), the units' files hold 10: removing 6 is over half of 10.
    expect(
      judge([unit({ gone: [['dynamic/p1/services/app.yml', 6]] }), unit({ n: 2, rewritten: [['dynamic/p2/services/x.yml', 4, 4]] })], {
        files: 100,
        routers: 0,
      }),
    ).toMatchObject({ routersRemoved: 6, routersManaged: 10 });
  });
});

describe('renames remove nothing', () => {
  it('a project whose files all move to new names (net zero) is not judged, however many', () => {
    const gone = Array.from({ length: 8 }, (_, i) => [`dynamic/old/services/s${i}.yml`, 2] as const);
    const created = Array.from({ length: 8 }, (_, i) => [`dynamic/new/services/s${i}.yml`, 2] as const);
    expect(judge([unit({ gone, created })], { files: 10, routers: 16 })).toBeNull();
    // Moving 8 files but creating only 2: 6 removed of 10, refused.
    expect(judge([unit({ gone, created: created.slice(0, 2) })], { files: 10, routers: 16 })).toMatchObject({ deletes: 6 });
  });
});

describe('removals within the window add up', () => {
  it('the window removed 3 of 13 files: 4 more now is 7 of 13, refused; alone 4 of 10 would pass', () => {
    const now = [unit({ gone: routerless(4) })];
    expect(judge(now, { files: 10, routers: 10 })).toBeNull();
    expect(judge(now, { files: 10, routers: 10, recent: { files: 3, routers: 0 } })).toMatchObject({ deletes: 7, managed: 13, limit: 6 });
  });

  it('the window dropped 3 of 10 routers: 3 more now is 6 of 10, refused; alone 3 of 7 would pass', () => {
    const now = [unit({ rewritten: [['dynamic/p1/services/app.yml', 7, 4]] })];
    expect(judge(now, { files: 50, routers: 7 })).toBeNull();
    expect(judge(now, { files: 50, routers: 7, recent: { files: 0, routers: 3 } })).toMatchObject({
      routersRemoved: 6,
      routersManaged: 10,
      limit: 5,
    });
  });

  it('a pass that removes nothing is never refused, whatever the window holds', () => {
    expect(
      judge([unit({ created: [['dynamic/p1/services/new.yml', 1]] })], { files: 10, routers: 10, recent: { files: 9, routers: 9 } }),
    ).toBeNull();
  });
});

describe('deleted projects (tombstones)', () => {
  const project = (n: number, files: number, tombstoned = true) =>
    unit({ n, tombstoned, gone: Array.from({ length: files }, (_, i) => [`dynamic/p${n}/services/s${i}.yml`, 1] as const) });

  it('deleting ONE project is exempt, even when it holds most files and routers', () => {
    expect(judge([project(1, 8)], { files: 10, routers: 10 })).toBeNull();
  });

  it('deleting several projects in one pass is judged: 3 + 3 of 10 files refused', () => {
    expect(judge([project(1, 3), project(2, 3)], { files: 10, routers: 10 })).toMatchObject({ deletes: 6, routersRemoved: 6, limit: 5 });
  });

  it('several deleted projects within the fraction pass: 2 + 2 of 10', () => {
    expect(judge([project(1, 2), project(2, 2)], { files: 10, routers: 10 })).toBeNull();
  });

  it('a deleted project with nothing left on disk does not make the one real deletion "several"', () => {
    expect(judge([project(1, 8), project(2, 0)], { files: 10, routers: 10 })).toBeNull();
  });

  it("one project's exemption does not cover other removals in the same pass", () => {
    const other = unit({ n: 3, gone: routerless(6) });
    expect(judge([project(1, 2), other], { files: 10, routers: 10 })).toMatchObject({ deletes: 6 });
    expect(judge([project(1, 2), unit({ n: 3, gone: routerless(5) })], { files: 10, routers: 10 })).toBeNull();
  });
});

describe('RemovalWindow', () => {
  it('sums what was removed within windowMs, to the millisecond, then forgets it', () => {
    let now = 1_000_000;
    const w = new RemovalWindow(600_000, () => now);
    w.add(2, 1);
    now += 60_000;
    w.add(3, 4);
    w.add(0, 0);
    expect(w.recent()).toEqual({ files: 5, routers: 5 });
    now += 540_000; // the first removal is exactly windowMs old: still counted
    expect(w.recent()).toEqual({ files: 5, routers: 5 });
    now += 1;
    expect(w.recent()).toEqual({ files: 3, routers: 4 });
    now += 60_000;
    expect(w.recent()).toEqual({ files: 0, routers: 0 });
  });
});
