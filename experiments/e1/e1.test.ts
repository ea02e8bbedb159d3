// The E1 command end to end on a tiny config: records, resume, tables and plots.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { E1Config, planE1 } from "./e1.ts";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "e1-"));
const TINY = {
  seeds: 1,
  estimators: ["st-gumbel-softmax", "reinforce"],
  quality: { seeds: 1, taus: [1], samples: 50 },
  toy: { ps: [2], taus: [1], dims: 8, steps: 20, every: 10 },
};

function runCli(...args: string[]): string {
  return execFileSync(
    join(root, "node_modules/.bin/tsx"),
    [join(root, "experiments/run.ts"), "e1", "--allow-outside-results", ...args],
    { cwd: root, encoding: "utf8", env: { ...process.env, CI: "1" } },
  );
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run exp -- e1", () => {
  it("plans each estimator at the taus it accepts", () => {
    const runs = planE1(
      E1Config.parse({ seeds: 1, quality: { seeds: 1, taus: [0.5, 1] }, toy: { ps: [2], taus: [1, 0.5] } }),
    );
    expect(runs.some((r) => r.run === "quality-reinmax-tau0p5-seed0")).toBe(false);
    expect(runs.some((r) => r.run === "quality-reinmax-tau1-seed0")).toBe(true);
    expect(runs.filter((r) => r.run.startsWith("toy-reinforce-"))).toHaveLength(1);
    expect(runs.some((r) => r.run === "toy-exact-p2-tau1-seed0")).toBe(true);
  });

  it("writes records, tables and plots, and resumes without redoing runs", { timeout: 120_000 }, () => {
    const config = join(dir, "tiny.json");
    writeFileSync(config, JSON.stringify(TINY));
    const results = join(dir, "results");
    const out = runCli("--config", config, "--results", results, "--backend", "wasm");
    expect(out).toMatch(/\[sweep 5\/5\] e1 toy-reinforce-p2-tau1-seed0: exact loss 0\.2\d+/);
    const records = readdirSync(join(results, "e1-records"));
    expect(records).toHaveLength(5);
    const record = JSON.parse(readFileSync(join(results, "e1-records", "toy-exact-p2-tau1-seed0.json"), "utf8"));
    expect(Object.keys(record)).toEqual([
      "experiment",
      "run",
      "id",
      "config",
      "seed",
      "backend",
      "versions",
      "commit",
      "startedAt",
      "wallSeconds",
      "metrics",
    ]);
    expect(record.backend.kind).toBe("wasm");
    for (const f of [
      "e1.md",
      "e1-toy.csv",
      "e1-quality.csv",
      "e1-toy-final.png",
      "e1-toy-final.svg",
      "e1-toy-curves.png",
      "e1-quality.png",
    ]) {
      expect(existsSync(join(results, f)), f).toBe(true);
    }
    expect(readFileSync(join(results, "e1.md"), "utf8")).toMatch(/\| st-gumbel-softmax \| 0\.2\d{4} ± /);
    const again = runCli("--config", config, "--results", results, "--backend", "wasm");
    expect(again).not.toMatch(/\[sweep \d+\/\d+\]/);
  });

  it("refuses a bad config, naming the field", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ toy: { steps: 0 } }));
    expect(() => runCli("--config", bad, "--results", join(dir, "r2"))).toThrow(/toy\.steps: Too small/);
  });
});
