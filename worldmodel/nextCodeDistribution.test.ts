import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { initBackend } from "../backend/init.ts";
import { collect } from "../data/collector.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "./config.ts";
import { WorldModel, envShapeOf } from "./model.ts";
import { distributionGap, nextCodeDistributionGap, totalVariation } from "./nextCodeDistribution.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const log = (ps: number[]) => ps.map(Math.log);

describe("next-code distribution gap (hand-computed cases)", () => {
  it("TV counts the model's mass outside the empirical support", () => {
    // Model [0.5, 0.3, 0.2]; observed codes 0, 0, 1, 1: 1/2 (0 + 0.2 + 0.2) = 0.2.
    expect(totalVariation([log([0.5, 0.3, 0.2])], [[0], [0], [1], [1]])).toBeCloseTo(0.2, 12);
  });

  it("TV of a factorised model over whole codes", () => {
    // p_m: (0,0) .45, (1,0) .45, (0,1) .05, (1,1) .05; observed (0,0) x2, (1,0), (1,1):
    // 1/2 (|.45 - .5| + |.45 - .25| + |.05 - .25| + .05) = 0.25.
    const lp = [log([0.5, 0.5]), log([0.9, 0.1])];
    const next = [
      [0, 0],
      [0, 0],
      [1, 0],
      [1, 1],
    ];
    expect(totalVariation(lp, next)).toBeCloseTo(0.25, 12);
    const gap = distributionGap([{ logProbs: lp, next }], 4);
    expect(gap.tv).toBeCloseTo(0.25, 12);
    expect(gap.nll).toBeCloseTo(-(3 * Math.log(0.45) + Math.log(0.05)) / 4, 12);
    expect(gap.tvFloor).toBe(1); // halves (0,0),(0,0) and (1,0),(1,1) share nothing
    expect([gap.groups, gap.transitions]).toEqual([1, 4]);
  });

  it("small groups count in the NLL but not in the TV; a perfect model has TV 0", () => {
    const perfect = { logProbs: [log([0.5, 0.5])], next: [[0], [1], [0], [1]] };
    const tiny = { logProbs: [log([0.5, 0.5])], next: [[0]] };
    const gap = distributionGap([perfect, tiny], 4);
    expect(gap.tv).toBeCloseTo(0, 12);
    expect(gap.nll).toBeCloseTo(Math.log(2), 12);
    expect([gap.groups, gap.transitions]).toEqual([1, 4]);
    expect(distributionGap([tiny], 4).tv).toBeNaN();
  });
});

describe("nextCodeDistributionGap on a world model", () => {
  it("groups held-out transitions of a slippery grid by code and action", () => {
    const envOptions = { size: 5, slip: 0.3 };
    const model = new WorldModel(
      parseWorldModelConfig({ latents: 4, encoder: { hidden: [16] }, dynamicsHidden: [16], headHidden: [8] }),
      envShapeOf(makeBare("GridEmpty-v0", envOptions)),
      0,
    );
    const buffer = collect({ envId: "GridEmpty-v0", envOptions, steps: 1000, numEnvs: 4, seed: 1 });
    model.fitNormalization(buffer.observations());
    const gap = nextCodeDistributionGap(model, buffer.sample(512, 1, new Rng(2)), 10);
    expect(gap.groups).toBeGreaterThan(0);
    expect(gap.tv).toBeGreaterThan(0);
    expect(gap.tv).toBeLessThanOrEqual(1);
    expect(Number.isFinite(gap.nll) && gap.nll > 0).toBe(true);
    model.dispose();
  });
});
