// `--status`: what a sweep's files say of its runs, read without running anything.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TrainingLog } from "../../agent/trainingLog.ts";
import { runFiles } from "../runFiles.ts";
import { expandSpecs, SweepSpec } from "./jobs.ts";
import { sweepStatus } from "./status.ts";

const root = mkdtempSync(join(tmpdir(), "status-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("sweepStatus", () => {
  it("tells per run its log's step, its checkpoint and its last evaluations; runs without files are not started", () => {
    const spec = SweepSpec.parse({
      experiment: "efficiency",
      results: join(root, "r"),
      config: {
        tasks: { "Catch-v0": { env: "Catch-v0", budget: 600, threshold: { metric: "success", value: 0.9 } } },
        methods: ["agent"],
        references: [],
        seeds: 2,
      },
    });
    const [first] = expandSpecs([spec])[0]!.jobs;
    const { logFile, checkpointDir } = runFiles(first!.resultsDir, "efficiency", first!.run);
    // The run's own log writer for evaluations and episodes; its scalars lines (their pace is the
    // clock's) by hand: 10 s for steps 100-200, killed after 250, resumed from 200, 20 s for 200-300.
    const log = new TrainingLog(logFile!, 50);
    const scalars = (step: number, ups: number) =>
      appendFileSync(logFile!, `${JSON.stringify({ type: "scalars", step, updates: step, updates_per_s: ups })}\n`);
    for (const [step, ret, success, ups] of [
      [100, -0.5, 0.2, 50],
      [200, 0.25, 0.6, 10],
      [200, 0.25, 0.6, 10],
      [300, 1, 1, 5],
    ] as const) {
      scalars(step, ups);
      // The last evaluation was also made with the online weights (evalOnline).
      log.evaluation(step, ret, success, step === 300 ? { return: 0.5, success: 0.4 } : undefined);
    }
    log.episode(310, 1, 9);
    appendFileSync(logFile!, '{"type":"scal'); // a line cut short by a kill
    mkdirSync(join(checkpointDir!, "ckpt-300"), { recursive: true });
    writeFileSync(join(checkpointDir!, "latest.json"), JSON.stringify({ checkpoint: "ckpt-300", step: 300 }));
    writeFileSync(
      join(checkpointDir!, "ckpt-300", "state.json"),
      JSON.stringify({ state: { config: { steps: 600 } } }),
    );
    const now = Date.now() + 90_000;
    expect(sweepStatus([spec], now)).toEqual([
      `efficiency (${join(root, "r")}): 2 jobs, 0 with records, 1 on their way, 1 not started`,
      expect.stringMatching(
        /^ {2}Catch-v0-agent-seed0: step 310 of 600 in its log, written (89|90|91) s ago \(about 44 s to go at the pace of its last 200 steps\); checkpoint at step 300; evaluations 100: return -0.5, success 0.2; 200: return 0.25, success 0.6; 300: return 1, success 1 \(online weights: return 0\.5, success 0\.4\); success >= 0\.9 first at step 300; lowest since 1 \(floor 0\.72\): stable so far$/,
      ),
      "  not started: Catch-v0-agent-seed1",
    ]);
    for (const kept of ["ckpt-200", "ckpt-100"]) mkdirSync(join(checkpointDir!, kept));
    expect(sweepStatus([spec], now)[1]).toMatch(/; checkpoint at step 300 \(also kept: ckpt-100, ckpt-200\); /);
    for (const kept of ["ckpt-150", "ckpt-50", "ckpt-250"]) mkdirSync(join(checkpointDir!, kept));
    expect(sweepStatus([spec], now)[1]).toMatch(/; checkpoint at step 300 \(also kept: 5, ckpt-50 to ckpt-250\); /);
    writeFileSync(join(checkpointDir!, "latest.json"), "{");
    expect(sweepStatus([spec], now)[1]).toMatch(/latest\.json is unreadable \(/);
  });
});
