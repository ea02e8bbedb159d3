// The report page, opened from the file system in headless Chromium (Debian's `chromium`, driven by
// playwright-core): every image loads and every table has rows — for a fresh small sweep and for
// the committed results.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiment } from "../registry.ts";
import { runInProcess } from "../sweep/localPool.ts";
import { SweepSpec } from "../sweep/jobs.ts";
import { runSweep } from "../sweep/sweep.ts";
import { tinyE1Jobs, tinyE1Spec } from "../sweep/testSpecs.ts";
import { parseCsv } from "../tables.ts";
import { markdownToHtml } from "./markdown.ts";
import { subfolderCommand, writeReport } from "./report.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const root = mkdtempSync(join(tmpdir(), "report-"));
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  // The flags keep Chromium from reaching out to the network (closed here) at start.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Opens a page and returns what a reader would miss: broken images and empty tables. */
async function inspect(
  htmlPath: string,
): Promise<{ images: number; broken: string[]; tables: number; emptyTables: number }> {
  const page = await browser.newPage();
  try {
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
    return await page.evaluate(() => {
      const imgs = [...document.querySelectorAll("img")];
      const tables = [...document.querySelectorAll("table")];
      return {
        images: imgs.length,
        broken: imgs.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.getAttribute("src") ?? ""),
        tables: tables.length,
        emptyTables: tables.filter((t) => t.querySelectorAll("tbody tr").length === 0).length,
      };
    });
  } finally {
    await page.close();
  }
}

describe("npm run report", () => {
  it("renders Markdown tables, code and images as HTML", () => {
    const html = markdownToHtml("# T\n\ntext `a<b` **x**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- ![p](p.png)", {
      headingShift: 1,
    }).replaceAll("\n", "");
    expect(html).toContain("<h2>T</h2>");
    expect(html).toContain("<code>a&lt;b</code> <strong>x</strong>");
    expect(html).toContain("<tbody><tr><td>1</td><td>2</td></tr></tbody>");
    expect(html).toContain('<img src="p.png" alt="p">');
  });

  it("builds a page from a fresh sweep whose images all load and whose tables all have rows", async () => {
    const dir = join(root, "fresh");
    expect((await runInProcess(tinyE1Jobs(dir), "wasm")).failed).toEqual([]);
    await experiment("e1").summarise(dir);
    const [readme, html] = writeReport(dir);
    expect(readFileSync(readme!, "utf8")).toMatch(/Reproduce: `npm run exp -- e1`/);
    expect(readFileSync(html!, "utf8")).toMatch(/backend wasm/);
    const seen = await inspect(html!);
    expect(seen.images).toBeGreaterThan(0);
    expect(seen.tables).toBeGreaterThan(0);
    expect(seen.broken).toEqual([]);
    expect(seen.emptyTables).toBe(0);
  }, 120_000);

  it("a sweep with a grid: one comparison table and plot, the reproducing spec, and every grid point on the page", async () => {
    const dir = join(root, "grid");
    const spec = SweepSpec.parse({ ...tinyE1Spec(join(dir, "steps")), grid: { "toy.steps": [20, 40] } });
    const lines: string[] = [];
    const report = await runSweep([spec], { workers: 1, backend: "wasm", log: (l) => lines.push(l) });
    expect(report.failed).toEqual([]);
    // E1's gradient-quality runs do not depend on toy.steps: run once, their records copied to the other point.
    const quality = readdirSync(join(dir, "steps", "toy.steps=20", "e1-records")).filter((f) =>
      f.startsWith("quality"),
    );
    expect(quality.length).toBeGreaterThan(0);
    for (const f of quality)
      expect(readFileSync(join(dir, "steps", "toy.steps=40", "e1-records", f), "utf8")).toBe(
        readFileSync(join(dir, "steps", "toy.steps=20", "e1-records", f), "utf8"),
      );
    const records = (p: string) => readdirSync(join(dir, "steps", p, "e1-records")).length;
    expect(report.done.length).toBe(records("toy.steps=20") + records("toy.steps=40") - quality.length);
    expect(lines.join("\n")).toContain(
      `${quality.length} jobs repeat another grid point's config: run once, record copied`,
    );
    // The spec is kept beside the results: `npm run sweep -- <it>` reproduces them.
    const manifest = join(dir, "steps", "e1-sweep.json");
    expect(SweepSpec.parse(JSON.parse(readFileSync(manifest, "utf8")))).toEqual(spec);
    const table = parseCsv(readFileSync(join(dir, "steps", "e1-comparison-toy.csv"), "utf8"));
    expect(new Set(table.map((r) => r["toy.steps"]))).toEqual(new Set([20, 40]));
    expect(existsSync(join(dir, "steps", "e1-comparison.png"))).toBe(true);
    const pointPage = readFileSync(join(dir, "steps", "toy.steps=40", "e1.md"), "utf8");
    expect(pointPage).toContain(`Regenerate with \`npm run sweep -- ${manifest}\``);
    const [readme, html] = writeReport(dir);
    const text = readFileSync(readme!, "utf8");
    expect(text).toContain("steps: grid points compared");
    expect(text).toContain("steps/toy.steps=20");
    expect(text).toContain("steps/toy.steps=40");
    expect(text).toMatch(/Reproduce: `npm run sweep -- [^`]*steps\/e1-sweep.json`/);
    const seen = await inspect(html!);
    expect(seen.broken).toEqual([]);
    expect(seen.emptyTables).toBe(0);
    expect(seen.images).toBeGreaterThan(2);
  }, 180_000);

  it("a subfolder's section reproduces with the command its own page names, unless that is the top preset", () => {
    const archive = "# E\n\nRegenerate with `git checkout 1de871d && npm run exp -- efficiency`. 20 records.";
    expect(subfolderCommand(archive, "npm run exp -- efficiency")).toBe(
      "git checkout 1de871d && npm run exp -- efficiency",
    );
    expect(subfolderCommand("Regenerate with `npm run exp -- e2`. 8 records.", "npm run exp -- e2")).toBeUndefined();
    expect(subfolderCommand("no command here", "npm run exp -- e2")).toBeUndefined();
    expect(subfolderCommand(undefined, "npm run exp -- e2")).toBeUndefined();
  });

  it("a page built from hostile folder and file names and summaries runs no script", async () => {
    const dir = join(root, "hostile");
    const evil = `e1-"><img src=x onerror=alert(1)>`;
    mkdirSync(join(dir, evil), { recursive: true });
    const png = join(import.meta.dirname, "..", "..", "results", "e1-toy-final.png");
    writeFileSync(
      join(dir, "e1.md"),
      "# E1\n\n[a link](javascript:alert(2)) [data](data:text/html,<script>alert(3)</script>) <script>alert(4)</script>\n\n| a | b |\n|---|---|\n| <img src=x onerror=alert(5)> | [x](vbscript:msgbox) |\n",
    );
    writeFileSync(
      join(dir, evil, "e1.md"),
      "# x\n\n![img](javascript:alert(6)) <b onmouseover=alert(7)>hover</b>\n\n| k | v |\n|---|---|\n| 1 | 2 |\n",
    );
    copyFileSync(png, join(dir, `e1-"><svg onload=alert(8)>.png`));
    copyFileSync(png, join(dir, evil, "e1-plot.png"));
    const [, html] = writeReport(dir);
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await page.goto(pathToFileURL(html!).href, { waitUntil: "load" });
      await page.hover("text=hover").catch(() => {});
      await page.waitForTimeout(300);
      const found = await page.evaluate(() => ({
        scripts: document.scripts.length,
        handlers: [...document.querySelectorAll("*")].flatMap((e) =>
          [...e.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${e.tagName} ${a.name}`),
        ),
        urls: [...document.querySelectorAll("[href], [src]")]
          .map((e) => e.getAttribute("href") ?? e.getAttribute("src") ?? "")
          .filter((u) => /^\s*(javascript|data|vbscript):/i.test(u)),
        images: [...document.querySelectorAll("img")].filter((i) => i.naturalWidth > 0).length,
      }));
      expect(dialogs).toEqual([]);
      expect(found.scripts).toBe(0);
      expect(found.handlers).toEqual([]);
      expect(found.urls).toEqual([]);
      expect(found.images).toBe(2); // the two real PNGs, names and all
    } finally {
      await page.close();
    }
  }, 60_000);

  it("the committed results make a page whose images all load and whose tables all have rows", async () => {
    const results = join(import.meta.dirname, "..", "..", "results");
    const out = join(root, "committed");
    const [, html] = writeReport(results, out);
    const seen = await inspect(html!);
    expect(seen.images).toBeGreaterThan(10);
    expect(seen.broken).toEqual([]);
    expect(seen.emptyTables).toBe(0);
  }, 60_000);
});
