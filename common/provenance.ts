// Where results come from: the git commit and the package version of the code that produced them.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

let commitCache: string | undefined;
/**
 * The git commit of the code (with "+dirty" for uncommitted changes outside results/, whose records
 * and plots describe runs, not code), or "unknown" outside a checkout.
 */
export function gitCommit(): string {
  if (commitCache !== undefined) return commitCache;
  try {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    ).trim();
    commitCache = dirty ? `${head}+dirty` : head;
  } catch {
    commitCache = "unknown";
  }
  return commitCache;
}

/** The package.json version of the code. */
export function projectVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}
