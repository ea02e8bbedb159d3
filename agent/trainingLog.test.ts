// The training log is written while the run goes: read at the first evaluation, before the run ends.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { trainAgent } from "./train.ts";

const dir = mkdtempSync(join(tmpdir(), "trainlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const read = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the training log (JSON lines)", () => {
  it("streams scalars, episodes and evaluations while the run goes", async () => {
    const logFile = join(dir, "log.jsonl");
    let seenAtFirstEval: Record<string, unknown>[] = [];
    const { agent } = await trainAgent(
      {
        env: "Catch-v0",
        steps: 400,
        seedSteps: 100,
        pretrainUpdates: 5,
        modelPretrainUpdates: 0,
        evalEvery: 200,
        evalEpisodes: 2,
        worldModel: { batch: 8 },
        value: { batch: 8 },
      },
      { logFile, logEvery: 50, onEval: () => void (seenAtFirstEval.length === 0 && (seenAtFirstEval = read(logFile))) },
    );
    agent.dispose();
    // At step 200, before the run ended: 4 scalar lines, every episode so far, no evaluation yet.
    expect(seenAtFirstEval.filter((l) => l.type === "scalars").map((l) => l.step)).toEqual([50, 100, 150, 200]);
    expect(seenAtFirstEval.filter((l) => l.type === "episode").length).toBe(22); // Catch episodes last 9 steps
    const scalars = seenAtFirstEval.find((l) => l.type === "scalars" && l.step === 150)!;
    for (const key of [
      "worldModel_loss",
      "worldModel_ce",
      "worldModel_gradNorm",
      "worldModel_perplexity",
      "worldModel_codesUsed",
      "td",
      "updates_per_s",
      "plan_ms",
    ]) {
      expect(typeof scalars[key], key).toBe("number");
    }
    const all = read(logFile);
    expect(all.filter((l) => l.type === "eval").map((l) => l.step)).toEqual([200, 400]);
    expect(existsSync(logFile)).toBe(true);
  }, 120_000);
});
