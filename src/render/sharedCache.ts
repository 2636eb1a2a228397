/**
 * Values shared by key and counted by their users, for resources that are costly to make and
 * must be freed by hand (the 3D labels' canvas textures and materials: textSprite.ts). A value
 * stays while anyone uses it; once unused it is kept for reuse, up to `keepUnused` of them,
 * and beyond that the least recently used unused ones are disposed.
 */
export class SharedCache<V> {
  /** Insertion order is recency: most recently acquired last. */
  private readonly entries = new Map<string, { value: V; users: number }>();

  constructor(
    private readonly keepUnused: number,
    private readonly dispose: (value: V) => void,
  ) {}

  /** The value for `key` (made with `create` if there is none), counted as one more user. */
  acquire(key: string, create: () => V): V {
    const entry = this.entries.get(key) ?? { value: create(), users: 0 };
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.users++;
    return entry.value;
  }

  /** One user of `key` fewer; unused values beyond `keepUnused` are disposed. */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.users === 0) return;
    entry.users--;
    if (entry.users === 0) this.trim();
  }

  /** Users of `key` now (0 when unused or not cached). */
  users(key: string): number {
    return this.entries.get(key)?.users ?? 0;
  }

  /** Values cached, used or not. */
  get size(): number {
    return this.entries.size;
  }

  private trim(): void {
    let unused = 0;
    for (const e of this.entries.values()) if (e.users === 0) unused++;
    for (const [key, e] of this.entries) {
      if (unused <= this.keepUnused) break;
      if (e.users > 0) continue;
      this.dispose(e.value);
      this.entries.delete(key);
      unused--;
    }
  }
}
