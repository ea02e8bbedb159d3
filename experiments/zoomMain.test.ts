// `npm run zoom -- <ckpt-N> --to <step> --every <n>` trains a stretch of a run again from a kept
// checkpoint, evaluated more often: the run's own evaluations come out the same.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { trainAgent } from "../agent/train.ts";
import { tsxExecArgv } from "./sweep/localPool.ts";
import { TINY_GRID_RUN } from "./tinyRun.fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "zoom-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("npm run zoom", () => {
  it("evaluates a stretch every --every steps, both ways with --online, and the run's evaluation comes out the same", async () => {
    // The stretch ends before the run does (its last evaluation is not the run's last).
    const run = { ...TINY_GRID_RUN, steps: 180, evalEvery: 60 };
    const trained = await trainAgent(run, { checkpointDir: join(dir, "checkpoint"), keepCheckpoints: true });
    trained.agent.dispose();
    const script = join(import.meta.dirname, "zoomMain.ts");
    const out = join(dir, "zoomed");
    const zoom = (...args: string[]) =>
      promisify(execFile)(process.execPath, [...tsxExecArgv(), script, join(dir, "checkpoint", "ckpt-60"), ...args], {
        timeout: 120_000,
      });
    const { stdout } = await zoom("--to", "120", "--every", "20", "--online", "--out", out);
    expect(stdout).toMatch(/^step 80: success [\d.]+, return [\d.-]+; online weights: success/m);
    const written = JSON.parse(readFileSync(join(out, "evaluations.json"), "utf8"));
    expect(written).toMatchObject({ env: "GridEmpty-v0", seed: 0, fromStep: 60, to: 120, every: 20 });
    const points = written.evaluations as { step: number; returns: number[]; online?: { returns: number[] } }[];
    expect(points.map((p) => p.step)).toEqual([80, 100, 120]);
    expect(points.at(-1)!.returns).toEqual(trained.result.evals.find((p) => p.step === 120)!.returns);
    expect(points.every((p) => p.online?.returns.length === 3)).toBe(true);
    // And its picture (the checkpoint's evaluation, then the stretch's).
    expect(stdout).toContain(`drawn in ${join(out, "zoom.png")}`);
    expect(readFileSync(join(out, "zoom.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(join(out, "zoom.svg"), "utf8")).toContain("evaluations from step 60");
    expect(stdout).toContain(`layout by layout in ${join(out, "zoom-layouts.png")}`);
    expect(readFileSync(join(out, "zoom-layouts.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(join(out, "zoom-layouts.svg"), "utf8")).toContain("each evaluation episode's return");
    // Nothing the user wrote is overwritten: a folder that holds files is refused in one line.
    const refused = await zoom("--to", "120", "--every", "20", "--out", out).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr.trim()).toMatch(
      /^error: zoom: --out [^\n]* holds files already[^\n]*$/,
    );
    // A stretch with no evaluation in it is refused too, before any training.
    const empty = await zoom("--to", "110", "--every", "200", "--out", join(dir, "empty")).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(empty).toMatchObject({ code: 1 });
    expect((empty as { stderr: string }).stderr.trim()).toMatch(
      /^error: zoom: no multiple of --every 200 lies after step 60 up to --to 110[^\n]*$/,
    );
  }, 180_000);
});
