// Observation and action spaces, as in Gymnasium: each samples from its own seeded generator,
// tests membership, and describes itself as JSON. `explain(x)` says why x is not a member (null
// when it is): the envs use it for error messages that name the value and what was expected.
import { Rng, freshSeed } from "../../common/rng.ts";

export type DType = "uint8" | "int32" | "float32" | "float64";
export type TypedArray = Uint8Array | Int32Array | Float32Array | Float64Array;

const ARRAY_TYPES = { uint8: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array } as const;
const DTYPE_RANGE: Record<DType, [number, number]> = {
  uint8: [0, 255],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  float32: [-Infinity, Infinity],
  float64: [-Infinity, Infinity],
};

export function allocate(dtype: DType, size: number): TypedArray {
  return new ARRAY_TYPES[dtype](size);
}

export type SpaceJSON =
  | { type: "Discrete"; n: number; start: number }
  | { type: "Box"; shape: number[]; dtype: DType; low: number[]; high: number[] }
  | { type: "MultiDiscrete"; nvec: number[] }
  | { type: "Tuple"; spaces: SpaceJSON[] }
  | { type: "Dict"; spaces: Record<string, SpaceJSON> };

export abstract class Space<T> {
  protected rng: Rng;

  constructor(seed?: number) {
    this.rng = new Rng(seed ?? freshSeed());
  }

  /** Reseeds the space's own generator; returns the seed used. */
  seed(seed?: number): number {
    const s = seed ?? freshSeed();
    this.rng = new Rng(s);
    return s;
  }

  abstract sample(): T;
  /** Why `x` is not in the space, or null when it is. */
  abstract explain(x: unknown): string | null;
  abstract toJSON(): SpaceJSON;

  contains(x: unknown): x is T {
    return this.explain(x) === null;
  }

  toString(): string {
    return JSON.stringify(this.toJSON());
  }
}

function formatValue(x: unknown): string {
  if (ArrayBuffer.isView(x) || Array.isArray(x)) {
    const arr = Array.from(x as ArrayLike<unknown>);
    const head = arr.slice(0, 8).map(String).join(", ");
    return `[${head}${arr.length > 8 ? `, ... (${arr.length} values)` : ""}]`;
  }
  return typeof x === "string" ? JSON.stringify(x) : String(x);
}
export { formatValue };

/** {start, ..., start + n - 1}; members are plain integer numbers. */
export class Discrete extends Space<number> {
  constructor(
    readonly n: number,
    readonly start = 0,
    seed?: number,
  ) {
    super(seed);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Discrete: 'n' must be a positive integer, got ${n}`);
    if (!Number.isInteger(start)) throw new RangeError(`Discrete: 'start' must be an integer, got ${start}`);
  }
  sample(): number {
    return this.start + this.rng.int(this.n);
  }
  explain(x: unknown): string | null {
    if (typeof x !== "number" || !Number.isInteger(x)) return `expected an integer, got ${formatValue(x)}`;
    if (x < this.start || x >= this.start + this.n) {
      return `expected an integer in [${this.start}, ${this.start + this.n - 1}], got ${x}`;
    }
    return null;
  }
  toJSON(): SpaceJSON {
    return { type: "Discrete", n: this.n, start: this.start };
  }
}

/** A box in R^shape (or Z^shape for integer dtypes) with per-element bounds; members are flat arrays in row-major order. */
export class Box extends Space<TypedArray> {
  readonly shape: readonly number[];
  readonly size: number;
  readonly low: Float64Array;
  readonly high: Float64Array;

  constructor(
    low: number | ArrayLike<number>,
    high: number | ArrayLike<number>,
    shape: readonly number[],
    readonly dtype: DType = "float32",
    seed?: number,
  ) {
    super(seed);
    if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`Box: 'shape' must hold positive integers, got [${shape.join(", ")}]`);
    }
    this.shape = [...shape];
    this.size = shape.reduce((a, b) => a * b, 1);
    this.low = expand(low, this.size, "low");
    this.high = expand(high, this.size, "high");
    const [dmin, dmax] = DTYPE_RANGE[dtype];
    for (let i = 0; i < this.size; i++) {
      if (!(this.low[i]! <= this.high[i]!)) {
        throw new RangeError(
          `Box: 'low' must be <= 'high' everywhere, got low=${this.low[i]} > high=${this.high[i]} at ${i}`,
        );
      }
      if (this.low[i]! < dmin || this.high[i]! > dmax) {
        throw new RangeError(`Box: bounds [${this.low[i]}, ${this.high[i]}] do not fit dtype ${dtype}`);
      }
    }
  }

  get isInteger(): boolean {
    return this.dtype === "uint8" || this.dtype === "int32";
  }

  isBounded(): boolean {
    return this.low.every(Number.isFinite) && this.high.every(Number.isFinite);
  }

  zeros(): TypedArray {
    return allocate(this.dtype, this.size);
  }

  /** Uniform on bounded dims, exponential on half-bounded, normal on unbounded (Gymnasium's rule). */
  sample(): TypedArray {
    const out = this.zeros();
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      let v: number;
      if (Number.isFinite(lo) && Number.isFinite(hi)) {
        v = this.isInteger ? lo + this.rng.int(hi - lo + 1) : this.rng.uniform(lo, hi);
      } else if (Number.isFinite(lo)) v = lo - Math.log(this.rng.floatOpen());
      else if (Number.isFinite(hi)) v = hi + Math.log(this.rng.floatOpen());
      else v = this.rng.normal();
      out[i] = this.isInteger ? Math.floor(v) : v;
    }
    if (this.dtype === "float32") clampFloat32(out as Float32Array, this.low, this.high);
    return out;
  }

  explain(x: unknown): string | null {
    if (!(ArrayBuffer.isView(x) || Array.isArray(x))) {
      return `expected an array of shape [${this.shape.join(", ")}], got ${formatValue(x)}`;
    }
    const arr = x as ArrayLike<number>;
    if (arr.length !== this.size) {
      return `expected ${this.size} values (shape [${this.shape.join(", ")}]), got ${arr.length}`;
    }
    for (let i = 0; i < this.size; i++) {
      const v = arr[i]!;
      const expected = `${this.isInteger ? "an integer" : "a number"} in [${this.low[i]}, ${this.high[i]}]`;
      const bad =
        typeof v !== "number" ||
        Number.isNaN(v) ||
        (this.isInteger && !Number.isInteger(v)) ||
        v < this.low[i]! ||
        v > this.high[i]!;
      if (bad) return `value ${i}: expected ${expected}, got ${String(v)}`;
    }
    return null;
  }

  toJSON(): SpaceJSON {
    return { type: "Box", shape: [...this.shape], dtype: this.dtype, low: uniq(this.low), high: uniq(this.high) };
  }
}

/** Rounding to float32 can push a sample just past a float64 bound; pull it back. */
function clampFloat32(out: Float32Array, low: Float64Array, high: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    if (out[i]! < low[i]!) out[i] = Math.fround(low[i]!) < low[i]! ? nextUp(low[i]!) : low[i]!;
    if (out[i]! > high[i]!) out[i] = Math.fround(high[i]!) > high[i]! ? nextDown(high[i]!) : high[i]!;
  }
}
function nextUp(x: number): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  i[0]! += x >= 0 ? 1 : -1;
  return f[0]!;
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

function expand(v: number | ArrayLike<number>, size: number, name: string): Float64Array {
  if (typeof v === "number") return new Float64Array(size).fill(v);
  if (v.length !== size) throw new RangeError(`Box: '${name}' must have ${size} values, got ${v.length}`);
  return Float64Array.from(v);
}

/** One value when all are equal (the usual case), else all of them. */
function uniq(a: Float64Array): number[] {
  return a.every((v) => v === a[0]) ? [a[0]!] : Array.from(a);
}

/** A vector of independent Discrete(n_i) values; members are Int32Array (or number[]) of length nvec.length. */
export class MultiDiscrete extends Space<Int32Array> {
  readonly nvec: Int32Array;
  constructor(nvec: ArrayLike<number>, seed?: number) {
    super(seed);
    this.nvec = Int32Array.from(nvec);
    if (this.nvec.length === 0 || this.nvec.some((n) => n < 1)) {
      throw new RangeError(`MultiDiscrete: 'nvec' must hold positive integers, got [${Array.from(nvec).join(", ")}]`);
    }
  }
  sample(): Int32Array {
    return this.nvec.map((n) => this.rng.int(n));
  }
  explain(x: unknown): string | null {
    if (!(ArrayBuffer.isView(x) || Array.isArray(x)))
      return `expected an array of ${this.nvec.length} integers, got ${formatValue(x)}`;
    const arr = x as ArrayLike<number>;
    if (arr.length !== this.nvec.length) return `expected ${this.nvec.length} values, got ${arr.length}`;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.nvec[i]!)
        return `value ${i}: expected an integer in [0, ${this.nvec[i]! - 1}], got ${v}`;
    }
    return null;
  }
  toJSON(): SpaceJSON {
    return { type: "MultiDiscrete", nvec: Array.from(this.nvec) };
  }
}

export class Tuple extends Space<unknown[]> {
  constructor(
    readonly spaces: readonly Space<unknown>[],
    seed?: number,
  ) {
    super(seed);
    this.seed(seed);
  }
  override seed(seed?: number): number {
    const s = super.seed(seed);
    this.spaces.forEach((sp, i) => sp.seed(s + i + 1));
    return s;
  }
  sample(): unknown[] {
    return this.spaces.map((s) => s.sample());
  }
  explain(x: unknown): string | null {
    if (!Array.isArray(x) || x.length !== this.spaces.length)
      return `expected an array of ${this.spaces.length} elements, got ${formatValue(x)}`;
    for (let i = 0; i < x.length; i++) {
      const why = this.spaces[i]!.explain(x[i]);
      if (why) return `element ${i}: ${why}`;
    }
    return null;
  }
  toJSON(): SpaceJSON {
    return { type: "Tuple", spaces: this.spaces.map((s) => s.toJSON()) };
  }
}

export class Dict extends Space<Record<string, unknown>> {
  constructor(
    readonly spaces: Readonly<Record<string, Space<unknown>>>,
    seed?: number,
  ) {
    super(seed);
    this.seed(seed);
  }
  override seed(seed?: number): number {
    const s = super.seed(seed);
    Object.values(this.spaces).forEach((sp, i) => sp.seed(s + i + 1));
    return s;
  }
  sample(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.spaces).map(([k, s]) => [k, s.sample()]));
  }
  explain(x: unknown): string | null {
    if (typeof x !== "object" || x === null || Array.isArray(x))
      return `expected an object with keys ${Object.keys(this.spaces).join(", ")}, got ${formatValue(x)}`;
    const obj = x as Record<string, unknown>;
    for (const [k, s] of Object.entries(this.spaces)) {
      if (!(k in obj)) return `missing key '${k}'`;
      const why = s.explain(obj[k]);
      if (why) return `key '${k}': ${why}`;
    }
    const extra = Object.keys(obj).filter((k) => !(k in this.spaces));
    return extra.length ? `unexpected keys ${extra.join(", ")}` : null;
  }
  toJSON(): SpaceJSON {
    return { type: "Dict", spaces: Object.fromEntries(Object.entries(this.spaces).map(([k, s]) => [k, s.toJSON()])) };
  }
}

/** Rebuilds a space from its JSON description (inverse of toJSON). */
export function spaceFromJSON(json: SpaceJSON): Space<unknown> {
  switch (json.type) {
    case "Discrete":
      return new Discrete(json.n, json.start);
    case "Box": {
      const bound = (v: number[]) => (v.length === 1 ? v[0]! : v);
      return new Box(bound(json.low), bound(json.high), json.shape, json.dtype);
    }
    case "MultiDiscrete":
      return new MultiDiscrete(json.nvec);
    case "Tuple":
      return new Tuple(json.spaces.map(spaceFromJSON));
    case "Dict":
      return new Dict(Object.fromEntries(Object.entries(json.spaces).map(([k, s]) => [k, spaceFromJSON(s)])));
  }
}
