/**
 * Outcomes waiting for their time: a min-heap on (time, arrival), so what arrives at the
 * same time comes out in the order it was scheduled — a world without delays replays its
 * sends in order. Used by the simulator's clock (traffic.ts) and `pnpm sim:engine`.
 */
export class TimeQueue<T> {
  private heap: { at: number; seq: number; item: T }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest time waiting, if any. */
  peekAt(): number | undefined {
    return this.heap[0]?.at;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    let i = h.push({ at, seq: this.seq++, item }) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Everything due by `at` (inclusive), in time order. */
  popUntil(at: number): T[] {
    const out: T[] = [];
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= at) {
      out.push(h[0]!.item);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return out;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}
