// Reading a saved env state back (setState): every field checked before anything is changed, so a
// bad state is refused with an EnvError naming the field, the value and what was expected, and the
// env stays as it was.
import { EnvError } from "./errors.ts";
import { formatValue } from "./spaces.ts";

export class StateReader {
  constructor(
    private readonly where: string,
    private readonly state: Record<string, unknown>,
  ) {}

  private fail(field: string, expected: string): never {
    throw new EnvError(`${this.where}: '${field}' must be ${expected}, got ${formatValue(this.state[field])}`);
  }

  int(field: string, lo: number, hi: number): number {
    const v = this.state[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
      this.fail(field, `an integer in [${lo}, ${hi}]`);
    return v;
  }

  number(field: string, lo: number, hi: number): number {
    const v = this.state[field];
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi)
      this.fail(field, `a number in [${lo}, ${hi}]`);
    return v;
  }

  bool(field: string): boolean {
    const v = this.state[field];
    if (typeof v !== "boolean") this.fail(field, "true or false");
    return v;
  }

  /** `length` integers, each in [lo[i], hi[i]] (or one range for all). */
  ints(field: string, length: number, lo: number | readonly number[], hi: number | readonly number[]): number[] {
    return this.list(field, length, lo, hi, true);
  }

  numbers(field: string, length: number, lo: number | readonly number[], hi: number | readonly number[]): number[] {
    return this.list(field, length, lo, hi, false);
  }

  private list(
    field: string,
    length: number,
    lo: number | readonly number[],
    hi: number | readonly number[],
    integer: boolean,
  ): number[] {
    const v = this.state[field];
    const at = (r: number | readonly number[], i: number) => (typeof r === "number" ? r : r[i]!);
    const range =
      typeof lo === "number" && typeof hi === "number"
        ? `in [${lo}, ${hi}]`
        : `in ${Array.from({ length }, (_, i) => `[${at(lo, i)}, ${at(hi, i)}]`).join(" x ")}`;
    const ok =
      Array.isArray(v) &&
      v.length === length &&
      v.every(
        (x, i) =>
          typeof x === "number" &&
          (integer ? Number.isInteger(x) : Number.isFinite(x)) &&
          x >= at(lo, i) &&
          x <= at(hi, i),
      );
    if (!ok) this.fail(field, `${length} ${integer ? "integers" : "finite numbers"} ${range}`);
    return v as number[];
  }
}
