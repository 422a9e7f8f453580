/** The owned files on this volume, by path and by project, with the identity last seen. */

/** An owned file as last seen: its project (null = global) and identity. */
export interface InventoryEntry {
  readonly projectId: string | null;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export class Inventory implements Iterable<[string, InventoryEntry]> {
  readonly #byPath = new Map<string, InventoryEntry>();
  readonly #byProject = new Map<string | null, Set<string>>();

  get size(): number {
    return this.#byPath.size;
  }

  get(path: string): InventoryEntry | undefined {
    return this.#byPath.get(path);
  }

  has(path: string): boolean {
    return this.#byPath.has(path);
  }

  set(path: string, entry: InventoryEntry): void {
    const old = this.#byPath.get(path);
    if (old && old.projectId !== entry.projectId) this.#byProject.get(old.projectId)?.delete(path);
    this.#byPath.set(path, entry);
    let paths = this.#byProject.get(entry.projectId);
    if (!paths) this.#byProject.set(entry.projectId, (paths = new Set()));
    paths.add(path);
  }

  delete(path: string): void {
    const old = this.#byPath.get(path);
    if (!old) return;
    this.#byPath.delete(path);
    const paths = this.#byProject.get(old.projectId);
    paths?.delete(path);
    if (paths?.size === 0) this.#byProject.delete(old.projectId);
  }

  /** Paths owned by one project (null = global files). */
  pathsOf(projectId: string | null): ReadonlySet<string> {
    return this.#byProject.get(projectId) ?? new Set();
  }

  clear(): void {
    this.#byPath.clear();
    this.#byProject.clear();
  }

  [Symbol.iterator](): Iterator<[string, InventoryEntry]> {
    return this.#byPath[Symbol.iterator]();
  }
}
