// Dense ids for keys, numbered in the order first met: the keys of the cells model's steppers.
// A Map with number keys boxes every key past 2^31 on each lookup (a heap number, later garbage):
// about 160 ns a lookup on a search's keys, against about 30 ns in this open-addressing table over
// typed arrays. Text keys stay in a Map.

/** Ids 0, 1, 2, ... for keys as first met; numbers equal as ===, so integer keys (not NaN). */
export class KeyIds {
  /** Open addressing, linear probing: 0 empty, else id + 1. At most half full. */
  private slots = new Int32Array(1024);
  /** The number key of each id (NaN where the id is a text key's). */
  private numbers = new Float64Array(512);
  private readonly texts = new Map<string, number>();
  /** Keys numbered so far (ids run 0 .. size - 1). */
  size = 0;

  /** `key`'s id: its own if met before, else the next one. */
  idOf(key: number | string): number {
    if (typeof key === "string") {
      let id = this.texts.get(key);
      if (id === undefined) {
        id = this.fresh(NaN);
        this.texts.set(key, id);
      }
      return id;
    }
    const mask = this.slots.length - 1;
    for (let i = spread(key) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) {
        const id = this.fresh(key);
        if (this.slots.length === mask + 1) this.slots[i] = id + 1;
        else this.place(key, id); // the table grew: a new slot
        return id;
      }
      if (this.numbers[slot - 1] === key) return slot - 1;
    }
  }

  /** A new id for number `key` (NaN for text), growing the tables to keep them at most half full. */
  private fresh(key: number): number {
    const id = this.size++;
    if (id === this.numbers.length) {
      const numbers = new Float64Array(2 * id);
      numbers.set(this.numbers);
      this.numbers = numbers;
      this.slots = new Int32Array(4 * id);
      for (let j = 0; j < id; j++) if (!Number.isNaN(numbers[j])) this.place(numbers[j]!, j);
    }
    this.numbers[id] = key;
    return id;
  }

  private place(key: number, id: number): void {
    const mask = this.slots.length - 1;
    let i = spread(key) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = id + 1;
  }
}

/** A 32-bit mix of an integer's low and high words (keys run to 2^53). */
function spread(key: number): number {
  const low = key >>> 0;
  const high = (key - low) / 4294967296;
  let h = Math.imul(low, 0x9e3779b1) ^ Math.imul(high | 0, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}
