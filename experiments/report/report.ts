// `npm run report`: results/README.md and results/index.html from what is in results/: every
// experiment's summary (its eN.md: tables and notes), its plots and episode animations, which
// backend and commit produced the records, and the one command that reproduces it. The page is
// static and self-contained apart from the images beside it, so it works from the file system.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { gitCommit } from "../../common/provenance.ts";
import { describeRecords, readRecords, runSeconds } from "../records.ts";
import { EXPERIMENTS, type ExperimentDef } from "../registry.ts";
import { escapeHtml, inline, markdownToHtml, safeUrl } from "./markdown.ts";

interface Section {
  id: string;
  title: string;
  command: string;
  provenance: string;
  /** The experiment's own summary (Markdown), if it wrote one. */
  summary?: string;
  /** Images (PNG, APNG) relative to the results folder. */
  images: string[];
  subsections: Section[];
}

const isImage = (f: string) => f.endsWith(".png") || f.endsWith(".apng");

function listImages(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => isImage(f) && (f.startsWith(`${prefix}-`) || f.startsWith(`${prefix}.`)))
    .sort();
}

/** Animated episodes and pictures in a folder; a run drawn both as PNG and APNG is shown once (the animation). */
function gallery(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter(isImage).sort();
  return files.filter((f) => !(f.endsWith(".png") && files.includes(f.replace(/\.png$/, ".apng"))));
}

function provenanceOf(recordsDir: string): string {
  const records = readRecords(recordsDir);
  if (records.length === 0) return "no records";
  const minutes = records.reduce((a, r) => a + runSeconds(r), 0) / 60;
  const dates = records.map((r) => r.startedAt).sort();
  return `${describeRecords(records)}; run time ${minutes.toFixed(0)} min (sum over runs); ${dates[0]!.slice(0, 10)} to ${dates[dates.length - 1]!.slice(0, 10)}`;
}

/** Folders that hold caches or run side files, never results of their own. */
const SIDE_FOLDER = /-(records|logs|checkpoints|data)$/;

/** Every folder under `dir` (depth first, sorted), skipping side folders, `latest` and `quick`. */
function folders(dir: string, depth = 4): string[] {
  if (depth === 0 || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !SIDE_FOLDER.test(f) && f !== "latest" && f !== "quick" && statSync(join(dir, f)).isDirectory())
    .sort()
    .flatMap((f) => [join(dir, f), ...folders(join(dir, f), depth - 1)]);
}

/**
 * The command that reproduces an experiment's results in `dir`: the sweep manifest beside them or in
 * a folder above (written by every sweep that is not a preset), else the preset for the top folder.
 */
function reproduce(def: ExperimentDef, dir: string, resultsDir: string): string {
  for (let d = dir; ; d = join(d, "..")) {
    const manifest = join(d, `${def.name}-sweep.json`);
    if (existsSync(manifest)) return `npm run sweep -- ${relative(process.cwd(), manifest) || manifest}`;
    if (relative(resultsDir, d) === "" || relative(resultsDir, d).startsWith("..")) break;
  }
  return dir === resultsDir
    ? `npm run exp -- ${def.name}`
    : `npm run exp -- ${def.name} --results ${relative(process.cwd(), dir)} --config <its config>`;
}

/**
 * The command a subfolder's page says regenerates it ("Regenerate with `...`", e.g. an archive's
 * `git checkout ... && npm run exp -- ...`), unless it names the top folder's preset: such a page
 * was written with the default command, which regenerates the top folder, not this one.
 */
export function subfolderCommand(summary: string | undefined, preset: string): string | undefined {
  const command = summary ? /Regenerate with `([^`]+)`/.exec(summary)?.[1] : undefined;
  return command === preset ? undefined : command;
}

function experimentSection(def: ExperimentDef, resultsDir: string): Section | undefined {
  const page = (dir: string) => `${def.outPrefix(dir)}.md`;
  const hasResults = (dir: string) => existsSync(page(dir)) || readRecords(def.recordsDir(dir)).length > 0;
  const subsections: Section[] = [];
  for (const sub of folders(resultsDir)) {
    const id = relative(resultsDir, sub).split("\\").join("/");
    const comparison = join(sub, `${def.name}-comparison.md`);
    if (existsSync(comparison))
      subsections.push({
        id: `${id}-comparison`,
        title: `${id}: grid points compared`,
        command: reproduce(def, sub, resultsDir),
        provenance: "",
        summary: readFileSync(comparison, "utf8"),
        images: listImages(sub, `${def.name}-comparison`).map((f) => `${id}/${f}`),
        subsections: [],
      });
    if (hasResults(sub)) {
      // Another results folder of this experiment: a variant (results/e2-collapse), a sweep's grid
      // point or an archive of older runs, whose own page names its command best.
      const summary = existsSync(page(sub)) ? readFileSync(page(sub), "utf8") : undefined;
      subsections.push({
        id,
        title: id,
        command: subfolderCommand(summary, `npm run exp -- ${def.name}`) ?? reproduce(def, sub, resultsDir),
        provenance: provenanceOf(def.recordsDir(sub)),
        summary,
        images: listImages(sub, def.name).map((f) => `${id}/${f}`),
        subsections: [],
      });
    } else if (basename(sub).startsWith(`${def.name}-`) && !def.caches(join(sub, "..")).includes(sub)) {
      // Picture folders of the experiment (results/e2-imagined).
      const images = gallery(sub).map((f) => `${id}/${f}`);
      if (images.length)
        subsections.push({
          id,
          title: `${id}: episodes and rollouts`,
          command: "",
          provenance: "",
          images,
          subsections: [],
        });
    }
  }
  const top = hasResults(resultsDir);
  if (!top && subsections.every((s) => s.command === "")) return undefined;
  return {
    id: def.name,
    title: def.title,
    command: top ? reproduce(def, resultsDir, resultsDir) : "",
    provenance: top ? provenanceOf(def.recordsDir(resultsDir)) : "no results in the top folder",
    summary: existsSync(page(resultsDir)) ? readFileSync(page(resultsDir), "utf8") : undefined,
    images: top ? listImages(resultsDir, def.name).filter((f) => !f.startsWith(`${def.name}-comparison`)) : [],
    subsections,
  };
}

function mainJobSection(resultsDir: string): Section | undefined {
  const dir = join(resultsDir, "latest");
  const recordPath = join(dir, "record.json");
  if (!existsSync(recordPath)) return undefined;
  const r = JSON.parse(readFileSync(recordPath, "utf8")) as {
    backend?: { kind: string };
    commit?: string;
    metrics?: { summary?: Record<string, unknown> };
  };
  const s = r.metrics?.summary ?? {};
  const summary = `| return | success | env steps | wall s | steps to 90% success |\n|---|---|---|---|---|\n| ${[s.return, s.success, s.envSteps, s.wallSeconds, s.stepsToSuccess90].map((x) => (typeof x === "number" ? +x.toFixed(3) : String(x ?? "-"))).join(" | ")} |\n`;
  return {
    id: "main",
    title: "Main job (npm start)",
    command: "npm ci && npm start",
    provenance: `backend ${r.backend?.kind ?? "?"}; commit ${r.commit ?? "?"}`,
    summary,
    images: gallery(dir).map((f) => `latest/${f}`),
    subsections: [],
  };
}

export function collectSections(resultsDir: string): Section[] {
  return [
    mainJobSection(resultsDir),
    ...Object.values(EXPERIMENTS).map((d) => experimentSection(d, resultsDir)),
  ].filter((s): s is Section => s !== undefined);
}

/** Writes README.md and index.html into `outDir` (default: the results folder itself). */
export function writeReport(resultsDir: string, outDir = resultsDir): string[] {
  const sections = collectSections(resultsDir);
  // Links in the experiments' Markdown are relative to the results folder; the report may live
  // elsewhere. File names become URL paths (each part percent-encoded); other schemes are dropped.
  const rel = (p: string) => {
    if (/^https?:\/\//i.test(p) || p.startsWith("#")) return p;
    if (!safeUrl(p)) return "#";
    return relative(outDir, join(resultsDir, decodeURIComponentSafe(p)))
      .split("\\")
      .join("/")
      .split("/")
      .map(encodeURIComponent)
      .join("/");
  };
  const header = `Generated by \`npm run report\` from the records and summaries in \`${relative(process.cwd(), resultsDir) || "."}\` (code at commit ${gitCommit()}).`;

  const md: string[] = ["# gumbel-worlds results", "", header, ""];
  for (const s of sections) md.push(...sectionMarkdown(s, 2, rel));
  const html = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>gumbel-worlds results</title>',
    `<style>${CSS}</style></head><body>`,
    "<h1>gumbel-worlds results</h1>",
    `<p>${inline(header)}</p>`,
    `<nav><ul>${sections.map((s) => `<li><a href="#${anchor(s.id)}">${escapeHtml(s.title)}</a></li>`).join("")}</ul></nav>`,
    ...sections.map((s) => sectionHtml(s, 2, rel)),
    "</body></html>",
  ].join("\n");
  const files = [join(outDir, "README.md"), join(outDir, "index.html")];
  writeFileAtomic(files[0]!, md.join("\n") + "\n");
  writeFileAtomic(files[1]!, html + "\n");
  return files;
}

/** A folder name as an HTML id: letters, digits, `-` and `_` only. */
const anchor = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, "-");

function decodeURIComponentSafe(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** Text that Markdown must show as it is (names of folders and files): its punctuation escaped. */
const mdText = (s: string) => s.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`);

function sectionMarkdown(s: Section, level: number, rel: (p: string) => string): string[] {
  const out = [`${"#".repeat(level)} ${mdText(s.title)}`, ""];
  if (s.command) out.push(`Reproduce: \`${s.command}\``, "");
  if (s.provenance) out.push(`Records: ${s.provenance}.`, "");
  if (s.summary)
    out.push(
      s.summary
        .replace(/^# .*\n/, "")
        .replace(/^(#{1,5}) /gm, `${"#".repeat(level - 1)}$1 `)
        .trim(),
      "",
    );
  for (const img of s.images) out.push(`![${mdText(img)}](<${rel(img)}>)`, "");
  for (const sub of s.subsections) out.push(...sectionMarkdown(sub, level + 1, rel));
  return out;
}

function sectionHtml(s: Section, level: number, rel: (p: string) => string): string {
  const parts = [`<section id="${anchor(s.id)}"><h${level}>${escapeHtml(s.title)}</h${level}>`];
  if (s.command) parts.push(`<p class="cmd">Reproduce: <code>${escapeHtml(s.command)}</code></p>`);
  if (s.provenance) parts.push(`<p class="prov">Records: ${escapeHtml(s.provenance)}.</p>`);
  if (s.summary) parts.push(markdownToHtml(s.summary.replace(/^# .*\n/, ""), { headingShift: level - 1, link: rel }));
  if (s.images.length)
    parts.push(
      `<div class="gallery">${s.images.map((img) => `<figure><a href="${escapeHtml(rel(img))}"><img src="${escapeHtml(rel(img))}" alt="${escapeHtml(img)}" loading="eager"></a><figcaption>${escapeHtml(img)}</figcaption></figure>`).join("")}</div>`,
    );
  for (const sub of s.subsections) parts.push(sectionHtml(sub, Math.min(6, level + 1), rel));
  parts.push("</section>");
  return parts.join("\n");
}

const CSS = [
  "body{font:15px/1.45 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}",
  "table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}",
  "code{background:#f3f3f3;padding:1px 4px;border-radius:3px}.cmd,.prov{color:#444}",
  ".gallery{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;max-width:100%}figure img{max-width:560px;width:100%;image-rendering:pixelated;border:1px solid #ddd}figcaption{font-size:12px;color:#666}",
  "section{border-top:1px solid #eee;margin-top:2em}",
].join("\n");
