// What a sweep leaves beside its results so that they can be compared and reproduced:
// - for a spec that is not a preset, `<base>/<experiment>-sweep.json`: the spec itself, a valid spec
//   file, so `npm run sweep -- <that file>` reproduces the folder (each page names that command);
// - for a spec with a grid, `<base>/<experiment>-comparison.{md,csv,png,svg}`: every grid point's
//   summary table in one, with the swept values as columns, and one plot of a metric (the spec's
//   `plot`, else the first that changes) against the swept values.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { canonicalJson } from "../../common/canonicalJson.ts";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { PALETTE, renderPlot, type Row } from "../plots.ts";
import { experiment } from "../registry.ts";
import { csv, markdownTable, parseCsv } from "../tables.ts";
import { separatedFrom, type CiCell } from "../whatThisShows.ts";
import type { SweepPart, SweepSpec } from "./jobs.ts";

/** A spec that is an experiment's preset (its default config, grid and folder): `npm run exp -- <name>` reproduces it. */
export function isPreset(spec: SweepSpec): boolean {
  return Object.keys(spec.config).length === 0 && Object.keys(spec.grid).length === 0 && spec.results === undefined;
}

export const baseFolder = (spec: SweepSpec): string => spec.results ?? (spec.quick ? "results/quick" : "results");
export const manifestPath = (spec: SweepSpec): string => join(baseFolder(spec), `${spec.experiment}-sweep.json`);

/** The command that reproduces a spec's results (writing its manifest first for non-presets). */
export function reproduceCommand(spec: SweepSpec): string {
  if (isPreset(spec)) return `npm run exp -- ${spec.experiment}${spec.quick ? " --quick" : ""}`;
  return `npm run sweep -- ${manifestPath(spec)}`;
}

/** Writes `<base>/<experiment>-sweep.json` for a non-preset spec; returns its path (undefined for presets). */
export function writeManifest(spec: SweepSpec): string | undefined {
  if (isPreset(spec)) return undefined;
  const path = manifestPath(spec);
  writeFileAtomic(path, `${JSON.stringify(JSON.parse(canonicalJson(spec)), null, 2)}\n`);
  return path;
}

/** A grid value as a table cell. */
const cell = (v: unknown): string | number =>
  typeof v === "number" ? v : typeof v === "string" ? v : canonicalJson(v);

/** The summary tables of a results folder: `<prefix>.csv` and `<prefix>-<table>.csv` (E1 writes two). */
function summaryTables(prefix: string): { table: string; path: string }[] {
  const dir = dirname(prefix);
  const name = basename(prefix);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(
      (f) =>
        f === `${name}.csv` || (f.startsWith(`${name}-`) && f.endsWith(".csv") && !f.startsWith(`${name}-comparison`)),
    )
    .sort()
    .map((f) => ({ table: f.slice(name.length + 1, -".csv".length) || "", path: join(dir, f) }));
}

/**
 * One table per summary table of the grid points (rows prefixed by the swept values), as Markdown and
 * CSV, and a plot of the first one's first metric; returns the files written (none without a grid).
 */
export async function writeComparison(spec: SweepSpec, parts: SweepPart[]): Promise<string[]> {
  const keys = Object.keys(spec.grid);
  if (keys.length === 0) return [];
  const def = experiment(spec.experiment);
  const base = baseFolder(spec);
  const tables = new Map<string, Row[]>();
  const pages: string[] = [];
  for (const part of parts.filter((p) => p.spec === spec)) {
    const found = summaryTables(def.outPrefix(part.resultsDir));
    if (found.length === 0) continue;
    pages.push(
      `- ${part.point.map(([k, v]) => `${k} = ${cell(v)}`).join(", ")}: \`${relative(base, `${def.outPrefix(part.resultsDir)}.md`)}\``,
    );
    const swept = Object.fromEntries(part.point.map(([k, v]) => [k, cell(v)]));
    for (const { table, path } of found) {
      const rows = tables.get(table) ?? [];
      for (const row of parseCsv(readFileSync(path, "utf8"))) rows.push({ ...swept, ...row });
      tables.set(table, rows);
    }
  }
  if (tables.size === 0) return [];
  const prefix = join(base, `${spec.experiment}-comparison`);
  const files: string[] = [];
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    files.push(path);
  };
  const sweptText = keys.map((k) => `\`${k}\` in [${spec.grid[k]!.map(cell).join(", ")}]`).join(" x ");
  const sections: string[] = [];
  for (const [table, rows] of tables) {
    const csvPath = `${prefix}${table ? `-${table}` : ""}.csv`;
    write(csvPath, csv(rows));
    sections.push(...(table ? [`## ${table}`, ""] : []), markdownTable(rows), `(\`${basename(csvPath)}\`)`, "");
  }
  write(
    `${prefix}.md`,
    [
      `# ${def.title.split(":")[0]}: ${sweptText}`,
      "",
      `Regenerate with \`${reproduceCommand(spec)}\`. Each grid point's tables in one, one row per row of the point's own table, the swept values first. The points' own pages:`,
      "",
      ...pages,
      "",
      ...sections,
      `Plot: \`${spec.experiment}-comparison.png\` (${spec.plot ? `\`${spec.plot}\`` : "the first metric of the first table that changes with the swept values"}).`,
      ...[...tables.values()].flatMap((rows) => gridFindings(rows, keys)),
      "",
    ].join("\n"),
  );
  const [chosen, chosenRows] = plotTable(tables, keys, spec.plot);
  const plot = comparisonPlot(
    chosenRows,
    keys,
    `${def.title.split(":")[0]}: ${sweptText}${chosen ? ` (${chosen})` : ""}`,
    spec.plot,
  );
  if (plot) files.push(...(await renderPlot(plot, prefix)));
  return files;
}

/** "[lo, hi]" -> [lo, hi] (undefined for other text). */
function interval(x: unknown): [number, number] | undefined {
  const m = /^\[(.+), (.+)\]$/.exec(String(x));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** A row's grid point as a label: its value, or key=value pairs when several keys are swept. */
const pointOf = (keys: string[]) => (r: Row) =>
  keys.map((k) => (keys.length > 1 ? `${k}=${r[k]}` : String(r[k]))).join(", ");

/**
 * "What this shows" across grid points: every metric that has a CI column ("X CI" after "X", "X ..."
 * or "... X"), per series (the table's leading text columns, e.g. env and mode), each grid point
 * against the first.
 */
export function gridFindings(rows: Row[], keys: string[]): string[] {
  const { numeric, text } = columnsOf(rows, keys);
  const ciColumns = text.filter((c) => c.endsWith(" CI") && rows.some((r) => interval(r[c])));
  const columns = Object.keys(rows[0]!).filter((c) => !keys.includes(c));
  const firstOther = columns.findIndex((c) => !text.includes(c));
  const labels = columns.slice(0, firstOther < 0 ? columns.length : firstOther);
  const point = pointOf(keys);
  const cells: CiCell[] = [];
  for (const ci of ciColumns) {
    const metric = metricOfCi(columns, numeric, ci);
    if (!metric) continue;
    for (const r of rows) {
      const bounds = interval(r[ci]);
      if (!bounds || typeof r[metric] !== "number") continue;
      cells.push({
        group: labels.map((c) => r[c]).join(" "),
        method: point(r),
        metric,
        mean: r[metric] as number,
        lo: bounds[0],
        hi: bounds[1],
      });
    }
  }
  if (cells.length === 0) return [];
  const reference = point(rows[0]!);
  return separatedFrom(
    cells,
    reference,
    "each grid point's budget",
    `, the grid point ${keys.join(", ")} = ${reference}`,
  );
}

/**
 * The metric a CI column belongs to: the numeric column named as its stem, else the first one to its
 * left that starts or ends with it ("return CI" -> "return", "return mean" or "final return";
 * "Spearman CI" -> "Spearman vs oracle", not the "Spearman seeds" after it).
 */
export function metricOfCi(columns: string[], numeric: string[], ci: string): string | undefined {
  const stem = ci.slice(0, -" CI".length);
  const left = columns.slice(0, columns.indexOf(ci)).filter((c) => numeric.includes(c));
  return left.find((c) => c === stem) ?? left.find((c) => c.startsWith(`${stem} `) || c.endsWith(` ${stem}`));
}

/**
 * A comparison table's columns other than the swept ones: numeric (numbers or empty), text (the
 * rest, not all empty), and `moving`: the numeric ones whose value changes between grid points
 * within a series (rows with the same text cells).
 */
function columnsOf(rows: Row[], keys: string[]): { numeric: string[]; text: string[]; moving: string[] } {
  const columns = Object.keys(rows[0]!).filter((c) => !keys.includes(c));
  const numeric = columns.filter((c) => rows.every((r) => typeof r[c] === "number" || r[c] === ""));
  const text = columns.filter((c) => !numeric.includes(c) && rows.some((r) => typeof r[c] === "string" && r[c] !== ""));
  const series = (r: Row) => text.map((c) => r[c]).join("|");
  const moving = numeric.filter((c) => {
    const values = new Map<string, Set<unknown>>();
    for (const r of rows) values.set(series(r), (values.get(series(r)) ?? new Set()).add(r[c]));
    return [...values.values()].some((v) => v.size > 1);
  });
  return { numeric, text, moving };
}

/**
 * The table to plot: the first with the column `metric` (an error naming the columns there are when
 * none has it), else the first whose numbers move with the swept values, else the first.
 */
export function plotTable(tables: Map<string, Row[]>, keys: string[], metric?: string): [string, Row[]] {
  const all = [...tables];
  if (metric === undefined) return all.find(([, rows]) => columnsOf(rows, keys).moving.length > 0) ?? all[0]!;
  const found = all.find(([, rows]) => columnsOf(rows, keys).numeric.includes(metric));
  if (found) return found;
  const columns = [...new Set(all.flatMap(([, rows]) => columnsOf(rows, keys).numeric))];
  throw new Error(
    `sweep: the spec's plot '${metric}' is no numeric column of the grid points' tables (${columns.join(", ")})`,
  );
}

/**
 * A metric (`metric`, else the first numeric column other than the swept values and counts that
 * changes with them) against the grid points,
 * one line per series (the text columns but the first, e.g. method), one panel per value of the
 * first text column (e.g. env).
 */
export function comparisonPlot(rows: Row[], keys: string[], title: string, named?: string): TopLevelSpec | undefined {
  const { numeric, text, moving } = columnsOf(rows, keys);
  const candidates = numeric.filter((c) => !/^(seeds|runs|updates|budget|k|step|wallSeconds)$/i.test(c));
  // By default the first that changes with the swept values (a setting such as p or tau does not).
  const metric = named ?? candidates.find((c) => moving.includes(c)) ?? candidates[0];
  if (!metric) return undefined;
  // Text columns that label series: few distinct values (not CIs, which are text too).
  const labels = text.filter((c) => !rows.some((r) => String(r[c]).startsWith("[")));
  const [panel, ...series] = labels;
  const point = pointOf(keys);
  const data = rows
    .filter((r) => typeof r[metric] === "number")
    .map((r) => ({
      point: point(r),
      value: r[metric] as number,
      series: series.length ? series.map((c) => String(r[c])).join(" / ") : metric,
      ...(panel ? { panel: String(r[panel]) } : {}),
    }));
  const order = [...new Set(rows.map(point))];
  const inner = {
    width: 260,
    height: 200,
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "point", type: "nominal", sort: order, title: keys.join(", "), axis: { labelAngle: 0 } },
      y: { field: "value", type: "quantitative", title: metric, scale: { zero: false } },
      color: { field: "series", type: "nominal", title: series.join(" / ") || null, scale: { range: PALETTE } },
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: `${metric} per grid point${panel ? `; one panel per ${panel}` : ""}` },
    data: { values: data },
    ...(panel
      ? {
          facet: { field: "panel", type: "nominal", title: null },
          columns: 3,
          spec: inner,
          resolve: { scale: { y: "independent" } },
        }
      : inner),
  } as TopLevelSpec;
}
