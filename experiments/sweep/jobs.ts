// Sweeps as idempotent jobs. A spec names an experiment, its config and optionally a grid of config
// values; expanding it gives one job per planned run. A job's id is the hash of what determines its
// result (experiment, validated run config, code version), so the same run is one job however
// often it is enqueued, and a run whose record exists is skipped.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { canonicalJson } from "../../common/canonicalJson.ts";
import { setPath } from "../../common/configMerge.ts";
import { isInside } from "../../common/safePaths.ts";
import { fingerprint, recordPath } from "../records.ts";
import { EXPERIMENTS, experiment, parseExperimentConfig, type RunConfig } from "../registry.ts";
import { recordDone } from "../runner.ts";
import { issuesLine } from "../../common/issues.ts";

export interface Job {
  /** Hash of experiment, run config and code version. */
  id: string;
  experiment: string;
  /** The record's name within the experiment. */
  run: string;
  /** Where its record (and side files) go, relative to the working directory. */
  resultsDir: string;
  config: RunConfig;
}

/** The code version that enters job ids: the package version (bump it when results change meaning). */
export function codeVersion(): string {
  return (
    JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { version: string }
  ).version;
}

export function jobId(experimentName: string, config: unknown, version = codeVersion()): string {
  return fingerprint({ experiment: experimentName, config, version }, 20);
}

export const SweepSpec = z
  .object({
    experiment: z.string(),
    /** The experiment's config (its zod schema in experiments/eN documents each field). */
    config: z.record(z.string(), z.unknown()).default({}),
    /** Start from the experiment's `--quick` preset. */
    quick: z.boolean().default(false),
    /** Values per config field (dotted paths, e.g. "agent.planner.horizon"): one sub-sweep per combination. */
    grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
    /** Results folder (default results, or results/quick for quick presets); grid points get subfolders. */
    results: z.string().optional(),
    /** The comparison plot's metric (a column of the grid points' tables); default: the first that changes with the swept values. */
    plot: z.string().optional(),
  })
  .strict();
export type SweepSpec = z.infer<typeof SweepSpec>;

/**
 * A preset name (e1..e4 or `all`, the committed results; with `quick` their smoke versions) or a
 * JSON file holding one spec or an array of specs.
 */
export function loadSpecs(arg: string, quick = false, allowOutsideResults = false): SweepSpec[] {
  return readSpecs(arg, quick).map((s) => confineResults(s, allowOutsideResults));
}

/** The project's results folder: sweeps write below it unless the command line says otherwise. */
export const RESULTS_ROOT = "results";

/** Throws unless the spec's results folder is inside results/ (or `allowOutside`, the command line's explicit choice). */
export function confineResults(spec: SweepSpec, allowOutside: boolean): SweepSpec {
  if (spec.results !== undefined && !allowOutside && !isInside(spec.results, RESULTS_ROOT)) {
    throw new Error(
      `sweep: results folder '${spec.results}' is outside ${RESULTS_ROOT}/ (pass --allow-outside-results on the command line to write there)`,
    );
  }
  return spec;
}

function readSpecs(arg: string, quick: boolean): SweepSpec[] {
  const presets = arg === "all" ? Object.keys(EXPERIMENTS) : EXPERIMENTS[arg] ? [arg] : undefined;
  if (presets) return presets.map((experiment) => SweepSpec.parse({ experiment, quick }));
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(arg, "utf8"));
  } catch (err) {
    throw new Error(
      `sweep: '${arg}' is neither a preset (${[...Object.keys(EXPERIMENTS), "all"].join(", ")}) nor a readable JSON spec file (${(err as Error).message})`,
    );
  }
  return (Array.isArray(raw) ? raw : [raw]).map((s, i) => {
    const parsed = SweepSpec.safeParse(s);
    if (!parsed.success) throw new Error(`sweep: spec ${i} in ${arg}: ${issuesLine(parsed.error)}`);
    return { ...parsed.data, quick: parsed.data.quick || quick };
  });
}

/** One results folder of a sweep: its experiment, and the jobs that write there. */
export interface SweepPart {
  experiment: string;
  resultsDir: string;
  jobs: Job[];
  /** The spec it comes from, and its grid point (config path -> value; empty without a grid). */
  spec: SweepSpec;
  point: [string, unknown][];
}

/** Expands specs into jobs: grid combinations x the experiment's planned runs. */
export function expandSpecs(specs: SweepSpec[]): SweepPart[] {
  const parts: SweepPart[] = [];
  const version = codeVersion();
  for (const spec of specs) {
    const def = experiment(spec.experiment);
    const base = spec.results ?? (spec.quick ? "results/quick" : "results");
    const baseConfig = parseExperimentConfig(
      spec.experiment,
      spec.config,
      spec.quick,
      `sweep spec for ${spec.experiment}`,
    );
    for (const point of gridPoints(spec.grid)) {
      // Grid values are set in the validated config (defaults filled in), then validated again.
      const raw = structuredClone(baseConfig) as Record<string, unknown>;
      for (const [path, value] of point) setPath(raw, path, value);
      const tag = point
        .map(([p, v]) => `${p}=${typeof v === "object" ? canonicalJson(v) : String(v)}`)
        .join(",")
        .replace(/[/\\:*?"<>| ]/g, "_");
      const resultsDir = tag ? join(base, tag) : base;
      const cfg = tag
        ? parseExperimentConfig(spec.experiment, raw, false, `sweep spec for ${spec.experiment} (${tag})`)
        : baseConfig;
      const jobs = def.plan(cfg, resultsDir).map((r) => ({
        id: jobId(spec.experiment, r.config, version),
        experiment: spec.experiment,
        run: r.run,
        resultsDir,
        config: r.config,
      }));
      parts.push({ experiment: spec.experiment, resultsDir, jobs, spec, point });
    }
  }
  return parts;
}

/** True when the job's record exists (made with the same config; another config is an error). */
export function jobDone(job: Job): boolean {
  return recordDone(experiment(job.experiment).recordsDir(job.resultsDir), job);
}

export function jobRecordPath(job: Job): string {
  return recordPath(experiment(job.experiment).recordsDir(job.resultsDir), job.run);
}

function gridPoints(grid: Record<string, unknown[]>): [string, unknown][][] {
  let points: [string, unknown][][] = [[]];
  for (const [path, values] of Object.entries(grid))
    points = points.flatMap((p) => values.map((v) => [...p, [path, v] as [string, unknown]]));
  return points;
}
