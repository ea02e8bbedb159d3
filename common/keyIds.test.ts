import { describe, expect, it } from "vitest";
import { KeyIds } from "./keyIds.ts";
import { Rng } from "./rng.ts";

/** The ids a Map would give: numbered as first met. */
function mapIds(keys: (number | string)[]): number[] {
  const ids = new Map<number | string, number>();
  return keys.map((k) => {
    if (!ids.has(k)) ids.set(k, ids.size);
    return ids.get(k)!;
  });
}

describe("KeyIds", () => {
  it("numbers keys as a Map does, through growth, with keys to 2^53 and text among them", () => {
    const rng = new Rng(3);
    // Few distinct keys drawn often, past several growths (512, 1024, ...); keys sharing their low
    // 32 bits (multiples of 2^32) or their high ones, numbers beside text that reads the same.
    const pool: (number | string)[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = i % 5;
      if (kind === 0) pool.push(rng.int(2 ** 20) * 2 ** 33);
      else if (kind === 1) pool.push(Number.MAX_SAFE_INTEGER - rng.int(1000));
      else if (kind === 2) pool.push(rng.int(2 ** 30));
      else if (kind === 3) pool.push(String(pool[i - 1]));
      else pool.push(rng.int(2 ** 26) * 2 ** 26 + rng.int(2 ** 26));
    }
    const keys = Array.from({ length: 20000 }, () => pool[rng.int(pool.length)]!);
    const ids = new KeyIds();
    expect(keys.map((k) => ids.idOf(k))).toEqual(mapIds(keys));
    expect(ids.size).toBe(new Set(keys).size);
  });

  it("gives a key met again its first id", () => {
    const ids = new KeyIds();
    expect([ids.idOf(2 ** 40), ids.idOf("a"), ids.idOf(0), ids.idOf(2 ** 40), ids.idOf("a")]).toEqual([0, 1, 2, 0, 1]);
  });
});
