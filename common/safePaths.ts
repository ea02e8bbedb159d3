// Names and paths that come from outside the process (a sweep spec, a queue worker's reply) are
// checked before anything is written: nothing lands outside the folder the user chose.
import { isAbsolute, relative, resolve, sep } from "node:path";

/** Run names and file-name parts: letters, digits, `.`, `_`, `-`, `=`, `,`, not starting with a dot. */
const NAME = /^[A-Za-z0-9_=,+-][A-Za-z0-9._=,+-]*$/;

/** Throws unless `name` is a plain file name (no separator, no `..`, a fixed character set). */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 200 || !NAME.test(name)) {
    throw new Error(
      `${what}: ${JSON.stringify(name)} is not a plain name (letters, digits and . _ - = , + only, not starting with a dot)`,
    );
  }
  return name;
}

/** Throws unless `path` is relative, stays below its base (no `..`, no absolute part) and each part is a plain name. */
export function checkRelativePath(path: unknown, what: string): string {
  if (typeof path !== "string" || path.length === 0 || isAbsolute(path) || path.includes("\\") || path.includes("\0")) {
    throw new Error(`${what}: ${JSON.stringify(path)} is not a relative path below the results folder`);
  }
  for (const part of path.split("/")) checkName(part, `${what} (${JSON.stringify(path)})`);
  return path;
}

/** True when `path` is `root` or inside it (both resolved against the working directory). */
export function isInside(path: string, root: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.split(sep).includes(".."));
}
