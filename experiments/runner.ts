// Planned runs of an experiment: each is skipped when its record exists (so a command resumes
// where it stopped), and a record of the same name made with another config is an error.
import { existsSync, readFileSync } from "node:fs";
import { canonicalJson } from "../common/canonicalJson.ts";
import { recordPath, type RunRecord } from "./records.ts";

/** A number as it appears in run names: 0.5 -> "0p5" (no dots in file names). */
export const numberTag = (x: number): string => String(x).replace(".", "p");

export interface PlannedRun<C extends { seed: number }> {
  /** The record's file name within the experiment. */
  run: string;
  /** Everything that determines the result (stored in the record and compared on resume). */
  config: C;
}

/** True when the run's record exists; a record of the same name with another config is an error. */
export function recordDone(recordsDir: string, r: PlannedRun<{ seed: number }>): boolean {
  const path = recordPath(recordsDir, r.run);
  if (!existsSync(path)) return false;
  const saved = (JSON.parse(readFileSync(path, "utf8")) as RunRecord).config;
  // Key order does not count: a sweep's manifest (canonical JSON) plans its configs with sorted keys.
  if (canonicalJson(saved) !== canonicalJson(r.config)) {
    throw new Error(
      `${path} was made with another config (${JSON.stringify(saved)}); delete it or pass another --results folder`,
    );
  }
  return true;
}
