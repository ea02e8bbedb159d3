// The E2 command end to end on a tiny config: datasets, records, tables and plots.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_WORLD_MODEL } from "../../agent/config.ts";
import { E2Config, planE2 } from "./e2.ts";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "e2-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY = {
  envs: ["Catch-v0"],
  estimators: ["st-gumbel-softmax", "reinforce"],
  tauSweep: { env: "Catch-v0", taus: [1] },
  seeds: 1,
  data: { steps: 300, testSteps: 200, numEnvs: 2 },
  train: { steps: 10, every: 5 },
  model: { latents: 4, encoder: { hidden: [16] }, dynamicsHidden: [16], headHidden: [8], batch: 8 },
  eval: { k: 3, batch: 16, visitSteps: 2, curveK: 2 },
};

describe("npm run exp -- e2", () => {
  it("agentModel.json trains E2's models with the agent's world-model settings, 8 estimators x 2 stochastic envs x 5 seeds", () => {
    const cfg = E2Config.parse(JSON.parse(readFileSync(join(import.meta.dirname, "agentModel.json"), "utf8")));
    expect(cfg.model).toEqual(AGENT_WORLD_MODEL);
    expect(planE2(cfg, "data")).toHaveLength(80);
  });

  it("plans the tau sweep on one env only, and refuses unknown envs", () => {
    const runs = planE2(
      E2Config.parse({
        envs: ["GridFourRooms-v0", "Catch-v0"],
        estimators: ["st-gumbel-softmax", "reinmax", "expected"],
        tauSweep: { env: "Catch-v0", taus: [0.5, 1, 2] },
        seeds: 1,
      }),
      "data",
    );
    const names = runs.map((r) => r.run);
    expect(names.filter((n) => n.startsWith("Catch-v0-st-gumbel-softmax"))).toHaveLength(3);
    expect(names.filter((n) => n.startsWith("GridFourRooms-v0-st-gumbel-softmax"))).toHaveLength(1);
    expect(names).not.toContain("Catch-v0-reinmax-tau0p5-seed0");
    expect(names.filter((n) => n.startsWith("Catch-v0-expected"))).toEqual(["Catch-v0-expected-tau1-seed0"]);
    expect(() => planE2(E2Config.parse({ envs: ["Pong-v0"] }), "data")).toThrow(/unknown env 'Pong-v0'/);
  });

  it("trains, evaluates (with pixel mismatch on Catch), writes records, tables and plots", { timeout: 120_000 }, () => {
    const config = join(dir, "tiny.json");
    writeFileSync(config, JSON.stringify(TINY));
    const results = join(dir, "results");
    const out = execFileSync(
      join(root, "node_modules/.bin/tsx"),
      [
        join(root, "experiments/run.ts"),
        "e2",
        "--config",
        config,
        "--results",
        results,
        "--allow-outside-results",
        "--backend",
        "wasm",
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    expect(out).toMatch(/\[sweep 2\/2\] e2 Catch-v0-reinforce-tau1-seed0: acc@1 \d\.\d{3} acc@3 \d\.\d{3} perplexity/);
    expect(readdirSync(join(results, "e2-records"))).toHaveLength(2);
    expect(readdirSync(join(results, "e2-data")).sort()).toEqual([
      "Catch-v0-seed0-test-200.gwrb",
      "Catch-v0-seed0-train-300.gwrb",
    ]);
    const record = JSON.parse(
      readFileSync(join(results, "e2-records", "Catch-v0-st-gumbel-softmax-tau1-seed0.json"), "utf8"),
    );
    expect(record.metrics.final.accuracy).toHaveLength(3);
    expect(record.metrics.final.pixelMismatch).toHaveLength(3);
    expect(record.metrics.curve.map((c: { step: number }) => c.step)).toEqual([5, 10]);
    for (const point of record.metrics.curve)
      for (const f of ["whole1", "wholeK", "testCe1", "testCeK"]) expect(Number.isFinite(point[f]), f).toBe(true);
    const visit = record.metrics.final.visitation;
    for (const f of ["sampled", "mode", "floor", "live"]) expect(visit[f], f).toHaveLength(2);
    const gap = record.metrics.final.distribution;
    expect(gap.nll).toBeGreaterThan(0);
    expect(gap.transitions).toBeGreaterThan(0); // Catch repeats its (code, action) pairs
    expect(gap.tv).toBeGreaterThanOrEqual(0);
    expect(gap.tv).toBeLessThanOrEqual(1);
    for (const f of [
      "e2.md",
      "e2.csv",
      "e2-accuracy.png",
      "e2-pixel-mismatch.png",
      "e2-curves.png",
      "e2-ce-curves.png",
      "e2-distribution.csv",
      "e2-imagined/Catch-v0-st-gumbel-softmax.png",
      "e2-imagined/Catch-v0-st-gumbel-softmax.apng",
    ]) {
      expect(existsSync(join(results, f)), f).toBe(true);
    }
    expect(readFileSync(join(results, "e2.md"), "utf8")).toMatch(
      /\| Catch-v0 \| st-gumbel-softmax \| 1 \| [\d.]+ \| 0\.\d+ \| \[/,
    );
    expect(readFileSync(join(results, "e2.md"), "utf8")).toMatch(
      /\| NLL@1 CI \| TV next code \| TV floor \| visit TV sampled@2 \| visit TV sampled@2 CI \| visit TV argmax@2 \| visit floor@2 \|/,
    );
  });
});
