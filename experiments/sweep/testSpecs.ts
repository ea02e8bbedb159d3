// Small sweep specs for the sweep and queue tests: E1 runs of well under a second each (`slow`: a few
// seconds each, to be interrupted mid-sweep), and a job whose config makes its execution throw.
import { expandSpecs, jobId, SweepSpec, type Job } from "./jobs.ts";

export function tinyE1Spec(results: string, slow = false): SweepSpec {
  return SweepSpec.parse({
    experiment: "e1",
    results,
    config: {
      seeds: slow ? 3 : 1,
      estimators: ["st-gumbel-softmax", "straight-through"],
      quality: { seeds: 2, taus: [1], samples: 100 },
      toy: { ps: [2], taus: [1], steps: slow ? 1500 : 40, every: 20, gumbelRaoPs: [2] },
    },
  });
}

export function tinyE1Jobs(results: string, slow = false): Job[] {
  return expandSpecs([tinyE1Spec(results, slow)])[0]!.jobs;
}

/** A job that passes planning but throws when executed (an estimator that does not exist). */
export function throwingJob(results: string): Job {
  const config = {
    kind: "quality",
    estimator: "no-such-estimator",
    tau: 1,
    seed: 0,
    dims: 2,
    classes: 4,
    samples: 10,
    draws: 10,
  };
  return {
    id: jobId("e1", config),
    experiment: "e1",
    run: "quality-no-such-estimator-seed0",
    resultsDir: results,
    config,
  };
}

/** A record without the fields that differ between two runs of the same job (time, host). */
export function comparable(record: Record<string, unknown>): Record<string, unknown> {
  const { startedAt: _s, wallSeconds: _w, ...rest } = record;
  return rest;
}
