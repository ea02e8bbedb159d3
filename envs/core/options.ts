// Checks of env constructor options: unknown keys and wrong values throw, naming the env, the key,
// the value and what was expected. No silent clamping.
import { EnvError } from "./env.ts";
import { formatValue } from "./spaces.ts";

/** Returns why a value is wrong, or null. */
export type Check = (v: unknown) => string | null;

export const check = {
  int:
    (min: number, max = Infinity): Check =>
    (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? null : `an integer in [${min}, ${max}]`,
  number:
    (min: number, max = Infinity): Check =>
    (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
        ? null
        : `a finite number in [${min}, ${max}]`,
  bool: (): Check => (v) => (typeof v === "boolean" ? null : "true or false"),
  oneOf:
    (values: readonly unknown[]): Check =>
    (v) =>
      values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`,
  optional:
    (inner: Check): Check =>
    (v) =>
      v === undefined || v === null ? null : inner(v),
};

/** Merges `given` over `defaults` after checking every key and value. */
export function resolveOptions<T extends Record<string, unknown>>(
  envName: string,
  defaults: T,
  checks: { [K in keyof T]: Check },
  given: Partial<T> | undefined,
): T {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    if (!(key in checks)) {
      throw new EnvError(`${envName}: unknown option '${key}' (accepted: ${Object.keys(checks).join(", ")})`);
    }
    const expected = checks[key as keyof T](value);
    if (expected !== null)
      throw new EnvError(`${envName}: option '${key}' must be ${expected}, got ${formatValue(value)}`);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
