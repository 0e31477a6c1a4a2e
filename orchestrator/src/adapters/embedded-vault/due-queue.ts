/**
 * Keys ordered by a due time (a binary min-heap with each key's position indexed), so that what is due is
 * found without looking at what is not: `set`, `delete` and `takeDue` cost O(log n) per key touched, and a
 * key is in the queue at most once, with the time it was last given.
 */
export class DueQueue {
  private readonly heap: { key: string; due: number }[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.heap.length;
  }

  /** Queues `key` at `due`, or moves it there when it is queued already. */
  set(key: string, due: number): void {
    const position = this.positions.get(key);
    if (position === undefined) {
      this.heap.push({ key, due });
      this.positions.set(key, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return;
    }
    const entry = this.heap[position]!;
    const earlier = due < entry.due;
    entry.due = due;
    if (earlier) this.up(position);
    else this.down(position);
  }

  delete(key: string): void {
    const position = this.positions.get(key);
    if (position === undefined) return;
    this.positions.delete(key);
    const last = this.heap.pop()!;
    if (position === this.heap.length) return;
    this.heap[position] = last;
    this.positions.set(last.key, position);
    this.up(position);
    this.down(this.positions.get(last.key)!);
  }

  /** Removes and returns every key due at `now` or before, earliest first. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (let top = this.heap[0]; top !== undefined && top.due <= now; top = this.heap[0]) {
      due.push(top.key);
      this.delete(top.key);
    }
    return due;
  }

  private up(position: number): void {
    let child = position;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.heap[parent]!.due <= this.heap[child]!.due) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  private down(position: number): void {
    let parent = position;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < this.heap.length && this.heap[left]!.due < this.heap[smallest]!.due) smallest = left;
      if (right < this.heap.length && this.heap[right]!.due < this.heap[smallest]!.due) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const first = this.heap[a]!;
    const second = this.heap[b]!;
    this.heap[a] = second;
    this.heap[b] = first;
    this.positions.set(second.key, a);
    this.positions.set(first.key, b);
  }
}
