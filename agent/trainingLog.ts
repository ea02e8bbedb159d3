// A run's training log: JSON lines appended to a file while the run goes, so a user (or `tail -f`)
// reads them before it ends. Three kinds of line:
//   {"type":"scalars","step":..,"updates":..,"updates_per_s":..,"plan_ms":..,<means of every update statistic>}
//     every `every` env steps: the means since the previous line (world-model loss and its parts,
//     gradient norm, code usage and perplexity, TD loss), updates/s and planning ms per action;
//   {"type":"episode","step":..,"return":..,"length":..}   at the end of every training episode;
//   {"type":"eval","step":..,"return":..,"success":..}     at every evaluation (with evalOnline,
//     "online":{"return":..,"success":..}: the same evaluation with the online weights).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import type { EvalScore } from "./evaluate.ts";

/** Nested numeric statistics flattened to `parent_child` keys. */
function flatten(
  stats: Record<string, unknown>,
  prefix = "",
  out: Record<string, number> = {},
): Record<string, number> {
  for (const [k, v] of Object.entries(stats)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (typeof v === "number") out[key] = v;
    else if (v && typeof v === "object") flatten(v as Record<string, unknown>, key, out);
  }
  return out;
}

/**
 * A run resumed from its checkpoint at `step` repeats the steps after it, so the log drops its lines past
 * `step` (written before the run stopped) rather than show those steps twice. Lines it cannot read stay.
 */
export function cutLogAfter(path: string, step: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, "utf8").split("\n");
  const kept = lines.filter((line) => {
    if (line === "") return false;
    try {
      const at = (JSON.parse(line) as { step?: unknown }).step;
      return typeof at !== "number" || at <= step;
    } catch {
      return true;
    }
  });
  if (kept.length < lines.filter((l) => l !== "").length) writeFileAtomic(path, kept.map((l) => `${l}\n`).join(""));
}

export class TrainingLog {
  private sums: Record<string, number> = {};
  private count = 0;
  private updates = 0;
  private planMs = 0;
  private plans = 0;
  private since = performance.now();

  constructor(
    readonly path: string,
    readonly every = 100,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  private write(line: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }

  /** One update's statistics (whatever the agent's update returned). */
  update(stats: unknown): void {
    this.updates++;
    if (!stats || typeof stats !== "object") return;
    for (const [k, v] of Object.entries(flatten(stats as Record<string, unknown>)))
      this.sums[k] = (this.sums[k] ?? 0) + v;
    this.count++;
  }

  plan(ms: number): void {
    this.planMs += ms;
    this.plans++;
  }

  /** After every env step: writes the scalars line when `step` reaches a multiple of `every`. */
  step(step: number, updates: number): void {
    if (step % this.every !== 0) return;
    const seconds = (performance.now() - this.since) / 1000;
    const means = Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / this.count]));
    this.write({
      type: "scalars",
      step,
      updates,
      updates_per_s: this.updates / seconds,
      plan_ms: this.plans ? this.planMs / this.plans : null,
      ...means,
    });
    this.sums = {};
    this.count = this.updates = this.planMs = this.plans = 0;
    this.since = performance.now();
  }

  episode(step: number, ret: number, length: number): void {
    this.write({ type: "episode", step, return: ret, length });
  }

  evaluation(step: number, ret: number, success: number, online?: EvalScore): void {
    this.write({ type: "eval", step, return: ret, success, ...(online && { online }) });
  }
}
