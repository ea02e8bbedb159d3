// The world-model probe on a tiny config: plan, runs, records' curves, table, CSV and plot.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend, type BackendInfo } from "../../backend/init.ts";
import { makeRecord, writeRecord } from "../records.ts";
import { ProbeConfig, executeProbe, planProbe, probePaths, summariseProbe } from "./probe.ts";

const dir = mkdtempSync(join(tmpdir(), "probe-"));
let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend({ backend: "wasm" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY = ProbeConfig.parse({
  envs: ["GridEmpty-v0"],
  variantEnvs: ["GridEmpty-v0"],
  seeds: 2,
  data: { steps: 300, testSteps: 200, numEnvs: 2 },
  updates: 20,
  every: 10,
  k: 3,
  evalBatch: 32,
  model: { latents: 4, encoder: { hidden: [16] }, dynamicsHidden: [16], headHidden: [8], batch: 8 },
  variants: { agent: {}, "one-step": { horizon: 1 } },
});

describe("npm run exp -- probe", () => {
  it("plans one run per variant, env and seed over the agent's world model, and refuses bad settings", () => {
    const runs = planProbe(TINY, "data");
    expect(runs.map((r) => r.run)).toEqual([
      "agent-GridEmpty-v0-seed0",
      "one-step-GridEmpty-v0-seed0",
      "agent-GridEmpty-v0-seed1",
      "one-step-GridEmpty-v0-seed1",
    ]);
    expect(runs[0]!.config.model).toMatchObject({ latents: 4, encoderLrScale: 0.3, encoder: { hidden: [16] } });
    expect(runs[1]!.config.model.horizon).toBe(1);
    expect(() => planProbe(ProbeConfig.parse({ ...TINY, envs: ["Pong-v0"] }), "data")).toThrow(/unknown env 'Pong-v0'/);
    expect(() => planProbe(ProbeConfig.parse({ ...TINY, variantEnvs: ["Catch-v0"] }), "data")).toThrow(
      /variantEnvs has 'Catch-v0', which is not in envs/,
    );
    // The variants after the first run only on variantEnvs; the first everywhere.
    const narrowed = planProbe(ProbeConfig.parse({ ...TINY, envs: ["GridEmpty-v0", "Catch-v0"], seeds: 1 }), "data");
    expect(narrowed.map((r) => r.run)).toEqual([
      "agent-GridEmpty-v0-seed0",
      "one-step-GridEmpty-v0-seed0",
      "agent-Catch-v0-seed0",
    ]);
    expect(() => planProbe(ProbeConfig.parse({ ...TINY, variants: { bad: { lr: -1 } } }), "data")).toThrow(/lr/);
  });

  it("probes a named env with options under its name; an env id on its defaults keeps its old config", () => {
    const small = { name: "GridEmpty-v0-5x5", env: "GridEmpty-v0", options: { size: 5 } };
    const cfg = ProbeConfig.parse({ ...TINY, envs: ["GridEmpty-v0", small], variantEnvs: [small.name], seeds: 1 });
    const runs = planProbe(cfg, "data");
    expect(runs.map((r) => r.run)).toEqual([
      "agent-GridEmpty-v0-seed0",
      "agent-GridEmpty-v0-5x5-seed0",
      "one-step-GridEmpty-v0-5x5-seed0",
    ]);
    expect(runs[0]!.config).not.toHaveProperty("name");
    expect(runs[0]!.config).not.toHaveProperty("envOptions");
    expect(runs[1]!.config).toMatchObject({ env: "GridEmpty-v0", name: small.name, envOptions: { size: 5 } });
    const plan = (envs: unknown[]) => () => planProbe(ProbeConfig.parse({ ...TINY, envs, variantEnvs: null }), "data");
    expect(plan([small, small])).toThrow(/'GridEmpty-v0-5x5' is given twice/);
    expect(plan([{ ...small, name: "../up" }])).toThrow(/not a plain name/);
    expect(plan([{ ...small, options: { size: 2 } }])).toThrow(/size/);
    // Its data files go by its name: an env id's would be taken for the defaults' data.
    expect(plan([{ ...small, name: "GridEmpty-v0" }])).toThrow(/named 'GridEmpty-v0' needs a name of its own/);
  });

  it("records whole-code accuracy curves and writes the table, CSV and plot", { timeout: 120_000 }, async () => {
    const paths = probePaths(join(dir, "results"));
    for (const { run, config } of planProbe(TINY, paths.dataDir)) {
      const { metrics } = executeProbe(config);
      expect(metrics.curve.map((p) => p.updates)).toEqual([10, 20]);
      for (const p of metrics.curve) {
        for (const x of [p.whole1, p.wholeK, p.latent1, p.ceiling]) expect(x).toBeGreaterThanOrEqual(0);
        for (const x of [p.whole1, p.wholeK, p.latent1, p.ceiling]) expect(x).toBeLessThanOrEqual(1);
        expect(p.whole1).toBeLessThanOrEqual(p.latent1 + 1e-6);
        expect(p.codes).toBeLessThanOrEqual(p.observations);
      }
      const started = new Date();
      writeRecord(
        paths.recordsDir,
        makeRecord({ experiment: "probe", run, config, seed: config.seed, backend, started, metrics }),
      );
    }
    // A named env with options: trained on its own data (a 5x5 grid's observations are 5x5x3).
    const small = { name: "GridEmpty-v0-5x5", env: "GridEmpty-v0", options: { size: 5 } };
    const named = planProbe(ProbeConfig.parse({ ...TINY, envs: [small], variantEnvs: null, seeds: 1 }), paths.dataDir);
    const { run, config } = named[0]!;
    const { metrics } = executeProbe(config);
    for (const p of metrics.curve) expect(p.unchanged).toBeGreaterThan(0);
    writeRecord(
      paths.recordsDir,
      makeRecord({ experiment: "probe", run, config, seed: 0, backend, started: new Date(), metrics }),
    );
    expect(existsSync(join(paths.dataDir, "GridEmpty-v0-5x5-random-seed0-train-300.gwrb"))).toBe(true);
    const files = await summariseProbe(paths.recordsDir, paths.outPrefix);
    expect(files).toContain(`${paths.outPrefix}-curves.png`);
    const md = readFileSync(`${paths.outPrefix}.md`, "utf8");
    expect(md).toContain("| GridEmpty-v0 | agent | 2 | 20 |");
    expect(md).toContain("| GridEmpty-v0 | one-step | 2 | 20 |");
    expect(md).toContain("| GridEmpty-v0-5x5 | agent | 1 | 20 |");
    expect(readFileSync(`${paths.outPrefix}.csv`, "utf8").split("\n")[0]).toContain("whole@3");
    expect(existsSync(join(paths.dataDir))).toBe(true);
  });
});
