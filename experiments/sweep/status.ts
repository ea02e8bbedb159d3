// Where a sweep stands, without running anything (`--status`): per experiment and results folder,
// how many jobs have records, and for each agent run on its way (a training log or a checkpoint but
// no record yet) the step its log reached and when, its last checkpoint, its last evaluations, and
// what its experiment reads in them (efficiency: where it first reached its threshold).
// Long sweeps (hours per run) are watched with it; it reads the files the runs write as they go.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { latestCheckpoint, latestPointer } from "../../agent/checkpoint.ts";
import type { EvalScore } from "../../agent/evaluate.ts";
import { runFiles } from "../runFiles.ts";
import { experiment } from "../registry.ts";
import { fmt3 } from "../tables.ts";
import { expandSpecs, jobDone, type Job, type SweepSpec } from "./jobs.ts";

/** Evaluations shown per run (the last ones). */
const SHOWN = 4;
/** The log's last windows (between scalars lines: 100 env steps by default) that give a run's pace. */
const PACE_WINDOWS = 10;

interface Evaluation extends EvalScore {
  step: number;
  /** With evalOnline: the online weights' evaluation (the one above is the averaged weights'). */
  online?: EvalScore;
}

/** A log line's `online` part, where it has one that reads. */
function onlinePart(value: unknown): Evaluation["online"] {
  const o = value as { return?: unknown; success?: unknown } | undefined;
  return typeof o?.return === "number" && typeof o.success === "number"
    ? { return: o.return, success: o.success }
    : undefined;
}

/** What a run's files say of it: undefined when it left none (not started, or an experiment without them). */
export function runProgress(job: Job, now = Date.now()): string | undefined {
  const { logFile, checkpointDir } = runFiles(job.resultsDir, job.experiment, job.run);
  const pointer = checkpointDir ? latestPointer(checkpointDir) : undefined;
  const hasLog = logFile !== undefined && existsSync(logFile);
  if (!hasLog && !(pointer && existsSync(pointer))) return undefined;
  const parts: string[] = [];
  const evals = new Map<number, Evaluation>(); // a resumed run's log repeats the steps after its checkpoint
  if (hasLog) {
    let step = 0;
    const windows: { steps: number; seconds: number }[] = [];
    let last: { step: number; updates: number } | undefined;
    for (const line of readFileSync(logFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut short by a kill
      }
      if (typeof entry.step !== "number") continue;
      step = entry.step;
      if (entry.type === "eval" && typeof entry.return === "number" && typeof entry.success === "number") {
        const online = onlinePart(entry.online);
        evals.set(entry.step, {
          step: entry.step,
          return: entry.return,
          success: entry.success,
          ...(online && { online }),
        });
      }
      if (entry.type === "scalars" && typeof entry.updates === "number") {
        // A scalars line's updates_per_s covers the time since the line before (evaluations included).
        const ups = entry.updates_per_s;
        if (last && entry.step > last.step && entry.updates > last.updates && typeof ups === "number" && ups > 0)
          windows.push({ steps: entry.step - last.step, seconds: (entry.updates - last.updates) / ups });
        last = { step: entry.step, updates: entry.updates };
      }
    }
    const budget = budgetOf(checkpointDir);
    parts.push(
      `step ${step}${budget !== undefined ? ` of ${budget}` : ""} in its log, written ${ago(now - statSync(logFile).mtimeMs)}${budget !== undefined ? toGo(budget - step, windows.slice(-PACE_WINDOWS)) : ""}`,
    );
  }
  parts.push(checkpointLine(pointer));
  const sorted = [...evals.values()].sort((a, b) => a.step - b.step);
  const shown = sorted.slice(-SHOWN);
  if (shown.length)
    parts.push(
      `evaluations ${shown.map((e) => `${e.step}: return ${fmt3(e.return)}, success ${fmt3(e.success)}${e.online ? ` (online weights: return ${fmt3(e.online.return)}, success ${fmt3(e.online.success)})` : ""}`).join("; ")}`,
    );
  const said = experiment(job.experiment).progress(job.config, sorted, job.resultsDir);
  if (said) parts.push(said);
  return parts.join("; ");
}

/** The status lines of every job the specs plan. */
export function sweepStatus(specs: SweepSpec[], now = Date.now()): string[] {
  const lines: string[] = [];
  for (const part of expandSpecs(specs)) {
    const done = part.jobs.filter((j) => jobDone(j)).length;
    const open = part.jobs.filter((j) => !jobDone(j)).map((j) => ({ job: j, progress: runProgress(j, now) }));
    const started = open.filter((o) => o.progress !== undefined);
    lines.push(
      `${part.experiment} (${part.resultsDir}): ${part.jobs.length} jobs, ${done} with records, ${started.length} on their way, ${open.length - started.length} not started`,
    );
    for (const o of started) lines.push(`  ${o.job.run}: ${o.progress}`);
    const waiting = open.filter((o) => o.progress === undefined).map((o) => o.job.run);
    if (waiting.length) lines.push(`  not started: ${waiting.join(", ")}`);
  }
  return lines;
}

function checkpointLine(pointer: string | undefined): string {
  if (!pointer || !existsSync(pointer)) return "no checkpoint yet";
  try {
    const { step, checkpoint } = JSON.parse(readFileSync(pointer, "utf8")) as { step?: unknown; checkpoint?: unknown };
    if (typeof step !== "number") return `${pointer} names no step`;
    // Older ones kept beside it (--all-checkpoints, or around a dip: keepAround).
    const others = readdirSync(dirname(pointer))
      .filter((f) => /^ckpt-\d+$/.test(f) && f !== checkpoint)
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    const kept = others.length > 4 ? `${others.length}, ${others[0]} to ${others.at(-1)}` : others.join(", ");
    return `checkpoint at step ${step}${others.length ? ` (also kept: ${kept})` : ""}`;
  } catch (err) {
    return `${pointer} is unreadable (${(err as Error).message})`;
  }
}

/** The run's env steps, from its checkpoint's config (unknown before its first checkpoint). */
function budgetOf(checkpointDir: string | undefined): number | undefined {
  try {
    const dir = checkpointDir ? latestCheckpoint(checkpointDir) : undefined;
    if (!dir) return undefined;
    const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
      state?: { config?: { steps?: unknown } };
    };
    const steps = state.state?.config?.steps;
    return typeof steps === "number" ? steps : undefined;
  } catch {
    return undefined;
  }
}

/** ", about T to go": the steps left at the pace of the windows given. */
function toGo(left: number, windows: { steps: number; seconds: number }[]): string {
  const steps = windows.reduce((t, w) => t + w.steps, 0);
  if (left <= 0 || steps === 0) return "";
  const seconds = windows.reduce((t, w) => t + w.seconds, 0);
  return ` (about ${duration((left * seconds) / steps)} to go at the pace of its last ${steps} steps)`;
}

const ago = (ms: number) => `${duration(ms / 1000)} ago`;

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
