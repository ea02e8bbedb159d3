// Files users keep (records, checkpoints, plots) are written to a temp file and renamed into place:
// a crash or kill mid-write leaves the old file or the new one, never half of one.
import { mkdirSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
