/**
 * Remembers message ids for the replay window, bounded in memory. Entries older
 * than the window are pruned; when full, the oldest entries go first (those are
 * the nearest to falling out of the `ts` skew window anyway, after which the
 * timestamp check rejects a replay on its own).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries = 200_000,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records `key` at time `now`; returns false if it was already seen within the window. */
  checkAndRemember(key: string, now: number): boolean {
    const at = this.seen.get(key);
    if (at !== undefined && now - at <= this.windowSeconds) return false;
    if (at !== undefined) this.seen.delete(key);
    this.prune(now);
    this.seen.set(key, now);
    return true;
  }

  private prune(now: number): void {
    // Map iteration is insertion order, so expired entries are at the front.
    for (const [key, at] of this.seen) {
      if (now - at <= this.windowSeconds && this.seen.size < this.maxEntries) break;
      this.seen.delete(key);
    }
  }
}
