// Plots for every experiment: vega-lite specs rendered to SVG by vega (no browser) and to PNG by
// resvg, both written atomically. Two shapes cover the experiments: lines with a 95% CI band over
// seeds, and bars with error bars.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../common/atomicWrite.ts";

export type Row = Record<string, string | number>;

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
}

/** Mean lines with a shaded 95% CI band, one colour per series. */
export function lineWithBand(rows: Row[], o: LineBandOptions): TopLevelSpec {
  const x = {
    field: o.x,
    type: "quantitative" as const,
    scale: { type: o.xScale ?? "linear" },
    title: o.xTitle ?? o.x,
  };
  const color = { field: o.color, type: "nominal" as const, legend: o.noLegend ? null : { labelLimit: 320 } };
  const layer = {
    layer: [
      {
        mark: { type: "area" as const, opacity: 0.18 },
        encoding: {
          x,
          y: { field: o.lo, type: "quantitative" as const, scale: { type: o.yScale ?? "linear", zero: false } },
          y2: { field: o.hi },
          color,
        },
      },
      {
        mark: { type: "line" as const, point: true },
        encoding: {
          x,
          y: {
            field: o.y,
            type: "quantitative" as const,
            title: o.yTitle ?? o.y,
            scale: { type: o.yScale ?? "linear", zero: false },
          },
          color,
        },
      },
    ],
  };
  const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: o.title, data: { values: rows } };
  return (
    o.facet
      ? {
          ...base,
          facet: { field: o.facet, type: "nominal", ...(o.noLegend ? { header: { title: null } } : {}) },
          columns: 3,
          spec: { width: 220, height: 160, ...layer },
          resolve: { scale: { y: "independent" } },
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
        mark: { type: "errorbar", ticks: true },
        encoding: {
          x,
          y: { field: o.lo, type: "quantitative", title: yTitle, scale: { zero: false } },
          y2: { field: o.hi },
        },
      },
      {
        mark: { type: "point", filled: true, size: 70 },
        encoding: {
          x,
          y: { field: o.y, type: "quantitative", title: yTitle, scale: { zero: false } },
          color: { field: o.x, type: "nominal", legend: null },
        },
      },
    ],
  };
  const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: o.title, data: { values: rows } };
  return (
    o.facet
      ? {
          ...base,
          facet: { field: o.facet, type: "nominal", title: null },
          columns: 3,
          spec: { width: 260, height: 200, ...inner },
          resolve: { scale: { y: "independent" } },
        }
      : { ...base, width: 420, height: 240, ...inner }
  ) as TopLevelSpec;
}
