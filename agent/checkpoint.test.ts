// A checkpoint that does not match its checksums is refused with one clear line; the good one it
// would have replaced is never deleted first.
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../backend/init.ts";
import { canonicalJson } from "../common/canonicalJson.ts";
import { latestCheckpoint } from "./checkpoint.ts";
import { ImaginationAgent } from "./agent.ts";
import { loadAgent } from "./load.ts";
import { evaluateAgent, trainAgent } from "./train.ts";

const root = mkdtempSync(join(tmpdir(), "ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const run = {
  env: "Catch-v0",
  steps: 120,
  seedSteps: 40,
  pretrainUpdates: 2,
  modelPretrainUpdates: 0,
  evalEvery: 60,
  evalEpisodes: 1,
  worldModel: { batch: 8 },
  value: { batch: 8 },
};

/** A fresh copy of a good checkpoint folder (interrupted at step 100) to break. */
let good = "";
beforeAll(async () => {
  good = join(root, "good");
  const first = await trainAgent(run, { checkpointDir: good, shouldStop: (step) => step >= 100 });
  first.agent.dispose();
}, 120_000);

function copy(name: string): { dir: string; ckpt: string } {
  const dir = join(root, name);
  cpSync(good, dir, { recursive: true });
  return { dir, ckpt: latestCheckpoint(dir)! };
}

const flipByte = (path: string, at: number) => {
  const bytes = readFileSync(path);
  bytes[at] ^= 0xff;
  writeFileSync(path, bytes);
};

describe("corrupt checkpoints are refused on --resume, naming what is wrong", () => {
  it.each([
    [
      "a flipped byte in the replay buffer's observations",
      (c: string) => flipByte(join(c, "buffer.gwrb"), 400),
      /buffer.gwrb is corrupt \(its SHA-256 does not match/,
    ],
    [
      "a flipped byte in agent.bin",
      (c: string) => flipByte(join(c, "agent.bin"), 10),
      /agent.bin does not match its checksum/,
    ],
    [
      "a weights file whose content no longer matches the hash in its name",
      (c: string) => {
        const wm = join(c, "worldmodel");
        flipByte(join(wm, readdirSync(wm).find((f) => f.startsWith("weights-"))!), 50);
      },
      /weights-[0-9a-f]+\.bin is corrupt \(its contents do not match the hash in its name\)/,
    ],
    [
      'state.step edited to "abc"',
      (c: string) => {
        const p = join(c, "state.json");
        writeFileSync(p, readFileSync(p, "utf8").replace(/"step": \d+/, '"step": "abc"'));
      },
      /the loop state in state.json does not match its checksum/,
    ],
    ["state.json truncated", (c: string) => writeFileSync(join(c, "state.json"), "{"), /state.json unreadable/],
  ])(
    "%s",
    async (_what, breakIt, message) => {
      const { dir, ckpt } = copy(`broken-${Math.random().toString(36).slice(2)}`);
      breakIt(ckpt);
      await expect(trainAgent(run, { checkpointDir: dir, resume: true })).rejects.toThrow(message);
    },
    60_000,
  );

  it("a loop state with a consistent checksum but invalid fields is refused by its schema", async () => {
    const { dir, ckpt } = copy("bad-rng");
    const p = join(ckpt, "state.json");
    const json = JSON.parse(readFileSync(p, "utf8"));
    json.state.rng = [0, 0, 0, 0];
    // Recompute the checksum as a careless tool would: the schema still refuses the state.
    json.stateSha256 = createHash("sha256").update(canonicalJson(json.state)).digest("hex");
    writeFileSync(p, JSON.stringify(json));
    await expect(trainAgent(run, { checkpointDir: dir, resume: true })).rejects.toThrow(
      /loop state .* is invalid: rng: a generator state is not all zeros/,
    );
  }, 60_000);
});

describe("keepCheckpoints", () => {
  it("keeps every evaluation's checkpoint, and an agent loaded from one repeats that evaluation action for action", async () => {
    // The evaluation's actions (the agent acts greedily only there), split at each evaluation's end.
    const act = ImaginationAgent.prototype.act;
    const actions: number[][] = [];
    const spy = vi.spyOn(ImaginationAgent.prototype, "act").mockImplementation(function (this: ImaginationAgent, ...a) {
      const action = act.apply(this, a);
      if (!this.explore) actions.push(action);
      return action;
    });
    try {
      const dir = join(root, "all");
      const cuts: number[] = [];
      const trained = await trainAgent(
        { ...run, evalEpisodes: 3 },
        { checkpointDir: dir, keepCheckpoints: true, onEval: () => void cuts.push(actions.length) },
      );
      trained.agent.dispose();
      expect(
        readdirSync(dir)
          .filter((f) => f.startsWith("ckpt-"))
          .sort(),
      ).toEqual(["ckpt-120", "ckpt-60"]);
      expect(latestCheckpoint(dir)).toMatch(/ckpt-120$/);

      const { agent, config, step } = await loadAgent(join(dir, "ckpt-60"));
      const during = actions.slice(0, cuts[0]);
      actions.length = 0;
      const again = evaluateAgent(agent, config).offline;
      agent.dispose();
      expect(step).toBe(60);
      expect(during.length).toBeGreaterThan(3);
      expect(actions).toEqual(during);
      expect(again.returns).toEqual(trained.result.evals[0].returns);
    } finally {
      spy.mockRestore();
    }
  }, 120_000);
});

describe("keepAround", () => {
  it("keeps the checkpoints on both sides of the evaluations it marks, through a resume", async () => {
    const dir = join(root, "around");
    const long = { ...run, steps: 240 }; // evaluations at 60, 120, 180, 240
    const asked: number[] = [];
    const keepAround = (evals: readonly { step: number }[]) => {
      asked.push(evals.at(-1)!.step);
      return evals.at(-1)!.step === 120;
    };
    // Stopped after step 150: its checkpoint there must carry what was kept.
    const first = await trainAgent(long, { checkpointDir: dir, keepAround, shouldStop: (step) => step >= 150 });
    first.agent.dispose();
    const names = () =>
      readdirSync(dir)
        .filter((f) => f.startsWith("ckpt-"))
        .sort();
    expect(names()).toEqual(["ckpt-120", "ckpt-150", "ckpt-60"]);
    const second = await trainAgent(long, { checkpointDir: dir, keepAround, resume: true });
    second.agent.dispose();
    expect(asked).toEqual([60, 120, 180, 240]);
    // ckpt-150 (the stop's) went at 180 as any latest does; 60 and 120 stay.
    expect(names()).toEqual(["ckpt-120", "ckpt-240", "ckpt-60"]);
    const { agent, step } = await loadAgent(join(dir, "ckpt-60"));
    agent.dispose();
    expect(step).toBe(60);
  }, 120_000);
});

describe("from", () => {
  it("goes on from a kept checkpoint evaluated more often, and trains as the run did", async () => {
    const dir = join(root, "from-run");
    const evaluated = { ...run, evalEpisodes: 3 };
    const first = await trainAgent(evaluated, { checkpointDir: dir, keepCheckpoints: true });
    first.agent.dispose();
    const zoomDir = join(root, "from-zoom");
    const zoomed = await trainAgent(
      { ...evaluated, evalEvery: 20 },
      { from: join(dir, "ckpt-60"), checkpointDir: zoomDir },
    );
    zoomed.agent.dispose();
    expect(zoomed.result.evals.map((e) => e.step)).toEqual([60, 80, 100, 120]);
    expect(zoomed.result.evals.at(-1)!.returns).toEqual(first.result.evals.at(-1)!.returns);
    // The same training: weights, optimiser state and replay buffer byte for byte, and the same random state.
    const bytes = (d: string) => readFileSync(join(d, "ckpt-120", "agent.bin"));
    expect(bytes(zoomDir).equals(bytes(dir))).toBe(true);
    const loop = (d: string) => JSON.parse(readFileSync(join(d, "ckpt-120", "state.json"), "utf8")).state;
    expect(loop(zoomDir).rng).toEqual(loop(dir).rng);
    expect(loop(zoomDir).agent).toEqual(loop(dir).agent);
    // A config that trains otherwise is refused, naming what may differ.
    await expect(
      trainAgent({ ...evaluated, seed: 3 }, { from: join(dir, "ckpt-60"), checkpointDir: join(root, "from-other") }),
    ).rejects.toThrow(
      /^trainAgent from: the checkpoint in .*ckpt-60 was written with another config \(only evalEvery, evalEpisodes, evalOnline may differ\)$/,
    );
    // So is a finished run's checkpoint: nothing is left to train.
    await expect(
      trainAgent(evaluated, { from: join(dir, "ckpt-120"), checkpointDir: join(root, "from-finished") }),
    ).rejects.toThrow(/^trainAgent from: .*ckpt-120 is a finished run's \(step 120\)$/);
  }, 120_000);
});
