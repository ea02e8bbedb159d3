// Seeded random numbers for everything in the toolkit: envs, spaces, network init, Gumbel noise.
// A thin mutable wrapper over pure-rand's xoroshiro128+. Seeds are scrambled first (splitmix32
// finaliser) because xoroshiro's raw first draws for seeds 0..4 are nearly equal.
import { type xoroshiro128plus, xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import { randomInt } from "node:crypto";
import { z } from "zod";

type Generator = ReturnType<typeof xoroshiro128plus>;

const TWO_POW_32 = 4294967296;
const TWO_POW_M53 = 1.1102230246251565e-16;

/** splitmix32's output function: a bijective 32-bit mixer. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) | 0;
}

/** Throws unless `seed` is a non-negative safe integer (a seed of 0 is a seed). */
export function assertSeed(seed: unknown, where: string): asserts seed is number {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new TypeError(`${where}: 'seed' must be a non-negative integer, got ${String(seed)}`);
  }
}

/** A seed drawn from the OS, for callers that gave none. */
export function freshSeed(): number {
  return randomInt(0, 2 ** 47);
}

/** A generator's state as getState() gives it (checkpoints keep them). */
export const RngState = z
  .array(z.number().int())
  .length(4)
  .refine((r) => r.some((x) => x !== 0), { message: "a generator state is not all zeros" });

export class Rng {
  private gen: Generator;

  /** `seed`: a non-negative safe integer; the full 53 bits are used. */
  constructor(seed: number) {
    assertSeed(seed, "Rng");
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const s0 = mix32(lo ^ 0x9e3779b9);
    const s1 = mix32(hi ^ 0x85ebca6b ^ s0);
    const s2 = mix32(s1 ^ 0xc2b2ae35);
    const s3 = mix32(s2 ^ 0x27d4eb2f) | 1; // never the all-zero state
    this.gen = xoroshiro128plusFromState([s0, s1, s2, s3]);
  }

  static fromState(state: readonly number[]): Rng {
    const rng = Object.create(Rng.prototype) as Rng;
    rng.gen = xoroshiro128plusFromState(state);
    return rng;
  }

  getState(): number[] {
    return [...this.gen.getState()];
  }

  clone(): Rng {
    return Rng.fromState(this.gen.getState());
  }

  /** A signed 32-bit integer. */
  nextInt32(): number {
    return this.gen.next();
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.gen.next() >>> 5; // 27 bits
    const b = this.gen.next() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** Uniform in the open interval (0, 1): safe for log(u) and log(-log u). */
  floatOpen(): number {
    let u = this.float();
    while (u === 0) u = this.float();
    return u;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); n <= 2^32. */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = Math.floor(TWO_POW_32 / n) * n;
    let v = this.gen.next() >>> 0;
    while (v >= limit) v = this.gen.next() >>> 0;
    return v % n;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.float();
  }

  /** Standard normal (Box-Muller; one draw per call, no cached pair, so state is simple). */
  normal(): number {
    const u = this.floatOpen();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Standard Gumbel: g = -log(-log u), u ~ U(0, 1). */
  gumbel(): number {
    return -Math.log(-Math.log(this.floatOpen()));
  }

  /** An index drawn with probability proportional to the (non-negative) weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    if (!(total > 0)) throw new RangeError(`Rng.categorical: weights must have a positive sum, got ${total}`);
    let u = this.float() * total;
    for (let i = 0; i < weights.length - 1; i++) if ((u -= weights[i]!) < 0) return i;
    return weights.length - 1;
  }

  /** A derived seed for a child generator (e.g. one per vector sub-env or per network layer). */
  childSeed(): number {
    return (this.gen.next() >>> 0) * 2048 + ((this.gen.next() >>> 0) & 2047);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}
