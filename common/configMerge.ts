// Merging layered configs (defaults < a config file < the flags a user typed) and reading a JSON
// config file, with errors that name the file and the problem. Keys that would reach
// Object.prototype are refused, not followed.
import { readFileSync } from "node:fs";

type Plain = Record<string, unknown>;

const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

export const isPlainObject = (x: unknown): x is Plain =>
  typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;

/** Throws unless `key` is an ordinary property name. */
export function checkKey(key: string, where: string): void {
  if (FORBIDDEN.has(key)) throw new Error(`${where}: the key '${key}' is not allowed`);
}

/** A new object: `over` merged into `base`, recursively for plain objects; arrays and values replace. */
export function deepMerge(base: Plain, over: Plain, where = "config"): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    checkKey(k, where);
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Plain, v, `${where}.${k}`) : v;
  }
  return out;
}

/** Sets `value` at a dotted path ("agent.planner.horizon"), creating objects on the way. */
export function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split(".");
  keys.forEach((k) => checkKey(k, `'${path}'`));
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(node[k])) node[k] = {};
    node = node[k] as Plain;
  }
  node[keys[keys.length - 1]!] = value;
}

/** The JSON object in `file`; a missing or unreadable file, invalid JSON or a non-object is one clear error. */
export function readJsonObject(file: string, what = "--config"): Plain {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `${what}: cannot read '${file}' (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a folder, not a file" : (err as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: '${file}' is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(value))
    throw new Error(
      `${what}: '${file}' must hold a JSON object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`,
    );
  return value;
}
