// Plots for every experiment: vega-lite specs rendered to SVG by vega (no browser) and to PNG by
// resvg, both written atomically. Two shapes cover the experiments: lines with a 95% CI band over
// seeds, and dots with error bars. Series are told apart by colour-blind-safe colours (Okabe-Ito
// and Tol's muted set, 16 in all) and, past 8 series, by dash patterns too; legends show the lines'
// colours; every panel of a faceted plot has its own x range; reference lines (an optimum, a
// baseline) are drawn dashed and labelled.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../common/atomicWrite.ts";

export type Row = Record<string, string | number>;

/** Okabe-Ito's 8 colour-blind-safe colours, then Paul Tol's muted set: 16 distinct series. */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#000000",
  "#F0E442",
  "#332288",
  "#88CCEE",
  "#44AA99",
  "#117733",
  "#999933",
  "#DDCC77",
  "#CC6677",
  "#882255",
];
/** Dash patterns cycled with the colours: series i gets PALETTE[i % 16] and DASHES[floor(i / 8) % 3]. */
const DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
];

/** A labelled horizontal reference line (per facet panel when `facetValue` is given). */
export interface ReferenceLine {
  y: number;
  label: string;
  facetValue?: string;
}

const FONT = "DejaVu Sans";
const CONFIG = {
  font: FONT,
  axis: { labelFont: FONT, titleFont: FONT },
  legend: { labelFont: FONT, titleFont: FONT },
  title: { font: FONT },
};

/** Renders a vega-lite spec to `${path}.svg` and `${path}.png`; returns the two paths. */
export async function renderPlot(spec: TopLevelSpec, path: string): Promise<[string, string]> {
  const { spec: vgSpec } = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
  })
    .render()
    .asPng();
  writeFileAtomic(`${path}.svg`, svg);
  writeFileAtomic(`${path}.png`, png);
  return [`${path}.svg`, `${path}.png`];
}

export interface LineBandOptions {
  title: string;
  x: string;
  y: string;
  /** Fields of the band's lower and upper edges. */
  lo: string;
  hi: string;
  color: string;
  /** Small multiples by this field. */
  facet?: string;
  xScale?: "linear" | "log";
  yScale?: "linear" | "log";
  xTitle?: string;
  yTitle?: string;
  /** Without a legend (small multiples whose panel titles already name each series). */
  noLegend?: boolean;
  /** A line under the title (or lines): seeds, budget, what the band is. */
  subtitle?: string | string[];
  /** Dashed, labelled horizontal lines (optimum, random, oracle). */
  references?: ReferenceLine[];
}

/** What every spec starts with: the schema, the title (and subtitle), the data with its reference lines. */
function specBase(
  rows: Row[],
  o: { title: string; subtitle?: string | string[]; references?: ReferenceLine[]; facet?: string },
) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.subtitle ? { text: o.title, subtitle: o.subtitle } : o.title,
    data: { values: withReferences(rows, o.references, o.facet) },
  };
}

/**
 * The data rows plus one row per reference line and panel (a facet spec takes one data set, so the
 * references ride along, told apart by `ref_label`).
 */
function withReferences(rows: Row[], refs: ReferenceLine[] | undefined, facet: string | undefined): Row[] {
  if (!refs?.length) return rows;
  const panels = facet ? [...new Set(rows.map((r) => String(r[facet])))] : [undefined];
  const extra = refs.flatMap((r) =>
    panels
      .filter((p) => r.facetValue === undefined || p === r.facetValue)
      .map((p) => ({ ref_y: r.y, ref_label: r.label, ...(facet && p !== undefined ? { [facet]: p } : {}) })),
  );
  return [...rows, ...extra];
}

const DATA_ONLY = { filter: "!isValid(datum.ref_label)" };

/** Dashed reference rules with their labels, as layers. */
function referenceLayers(refs: ReferenceLine[] | undefined, yScale: string, zero = false): object[] {
  if (!refs?.length) return [];
  const transform = [{ filter: "isValid(datum.ref_label)" }];
  const y = { field: "ref_y", type: "quantitative" as const, scale: { type: yScale, zero } };
  return [
    { transform, mark: { type: "rule", strokeDash: [4, 4], color: "#555555" }, encoding: { y } },
    {
      transform,
      mark: { type: "text", align: "left", dx: 4, dy: -6, fontSize: 10, color: "#333333" },
      encoding: { y, x: { value: 0 }, text: { field: "ref_label" } },
    },
  ];
}

/** Mean lines with a shaded 95% CI band, one colour per series. */
export function lineWithBand(rows: Row[], o: LineBandOptions): TopLevelSpec {
  const x = {
    field: o.x,
    type: "quantitative" as const,
    scale: { type: o.xScale ?? "linear" },
    title: o.xTitle ?? o.x,
  };
  const scale = { range: PALETTE };
  // Legend swatches are strokes at full opacity (merged with the band's layer, they were pale areas).
  const legend = o.noLegend
    ? null
    : { labelLimit: 320, symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1, symbolSize: 300 };
  const color = { field: o.color, type: "nominal" as const, scale, legend };
  const series = [...new Set(rows.map((r) => String(r[o.color])))];
  const dash = {
    field: o.color,
    type: "nominal" as const,
    scale: { domain: series, range: series.map((_, i) => DASHES[Math.floor(i / 8) % DASHES.length]!) },
    legend,
  };
  const layer = {
    layer: [
      {
        transform: [DATA_ONLY],
        mark: { type: "area" as const, opacity: 0.15 },
        encoding: {
          x,
          y: { field: o.lo, type: "quantitative" as const, scale: { type: o.yScale ?? "linear", zero: false } },
          y2: { field: o.hi },
          color,
        },
      },
      {
        transform: [DATA_ONLY],
        mark: { type: "line" as const, point: { size: 18 }, strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: o.y,
            type: "quantitative" as const,
            title: o.yTitle ?? o.y,
            scale: { type: o.yScale ?? "linear", zero: false },
          },
          color,
          ...(series.length > 8 ? { strokeDash: dash } : {}),
        },
      },
      ...referenceLayers(o.references, o.yScale ?? "linear"),
    ],
  };
  const base = specBase(rows, o);
  return (
    o.facet
      ? {
          ...base,
          facet: { field: o.facet, type: "nominal", ...(o.noLegend ? { header: { title: null } } : {}) },
          columns: 3,
          spec: { width: 220, height: 160, ...layer },
          resolve: { scale: { x: "independent", y: "independent" } },
        }
      : { ...base, width: 420, height: 260, ...layer }
  ) as TopLevelSpec;
}

export interface PointOptions {
  title: string;
  x: string;
  y: string;
  lo: string;
  hi: string;
  facet?: string;
  yTitle?: string;
  subtitle?: string | string[];
  references?: ReferenceLine[];
  /** Start the y axis at zero (counts such as env steps), instead of fitting it to the data. */
  yZero?: boolean;
}

/**
 * Means as dots with 95% CI error bars, one per category, on a y axis fitted to the data (bars from
 * zero would hide differences of a few thousandths), optionally faceted.
 */
export function pointsWithErrors(rows: Row[], o: PointOptions): TopLevelSpec {
  const x = {
    field: o.x,
    type: "nominal" as const,
    sort: null,
    axis: { labelAngle: -40, labelLimit: 240 },
    title: null,
  };
  const yTitle = o.yTitle ?? o.y;
  const inner = {
    layer: [
      {
        transform: [DATA_ONLY],
        mark: { type: "errorbar", ticks: true },
        encoding: {
          x,
          y: { field: o.lo, type: "quantitative", title: yTitle, scale: { zero: o.yZero ?? false } },
          y2: { field: o.hi },
        },
      },
      {
        transform: [DATA_ONLY],
        mark: { type: "point", filled: true, size: 70 },
        encoding: {
          x,
          y: { field: o.y, type: "quantitative", title: yTitle, scale: { zero: o.yZero ?? false } },
          color: { field: o.x, type: "nominal", scale: { range: PALETTE }, legend: null },
        },
      },
      ...referenceLayers(o.references, "linear", o.yZero ?? false),
    ],
  };
  const base = specBase(rows, o);
  return (
    o.facet
      ? {
          ...base,
          facet: { field: o.facet, type: "nominal", title: null },
          columns: 3,
          spec: { width: 260, height: 200, ...inner },
          resolve: { scale: { x: "independent", y: "independent" } },
        }
      : { ...base, width: 420, height: 240, ...inner }
  ) as TopLevelSpec;
}

/** "n seeds" (or "2-3 seeds" where groups differ) of records grouped by everything but the seed. */
export function seedsNote(seedsPerGroup: number[]): string {
  if (seedsPerGroup.length === 0) return "no runs";
  const lo = Math.min(...seedsPerGroup);
  const hi = Math.max(...seedsPerGroup);
  return `${lo === hi ? lo : `${lo}-${hi}`} seed${hi === 1 ? "" : "s"} per series`;
}
