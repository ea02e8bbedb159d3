// `npm run inspect -- <checkpoint> --evaluation` replays the evaluation its step made, episode by episode.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { trainAgent } from "../agent/train.ts";
import { tsxExecArgv } from "./sweep/localPool.ts";
import { TINY_GRID_RUN } from "./tinyRun.fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "inspect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("npm run inspect -- --evaluation", () => {
  it("prints each episode of the checkpoint's evaluation, as training measured it", async () => {
    // Averaged evaluation weights, and the online ones' evaluation recorded beside (for --online).
    const run = { ...TINY_GRID_RUN, evalEvery: 120, evalOnline: true };
    const trained = await trainAgent(run, { checkpointDir: join(dir, "checkpoint") });
    trained.agent.dispose();
    const script = join(import.meta.dirname, "inspectMain.ts");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...tsxExecArgv(), script, join(dir, "checkpoint"), "--evaluation", "--json"],
      { timeout: 120_000 },
    );
    const line = JSON.parse(stdout.trim().split("\n").at(-1)!);
    const evaluated = trained.result.evals.at(-1)!;
    expect(line).toMatchObject({ env: "GridEmpty-v0", step: 120 });
    expect(line.episodes.map((e: { return: number }) => e.return)).toEqual(evaluated.returns);
    expect(line.episodes.map((e: { seed: number }) => e.seed)).toEqual([1_000_000, 1_000_001, 1_000_002]);
    // --online: the online weights' evaluation, as training recorded it beside.
    const online = await promisify(execFile)(
      process.execPath,
      [...tsxExecArgv(), script, join(dir, "checkpoint"), "--evaluation", "--online", "--json"],
      { timeout: 120_000 },
    );
    const onlineLine = JSON.parse(online.stdout.trim().split("\n").at(-1)!);
    expect(onlineLine).toMatchObject({ step: 120, online: true });
    expect(onlineLine.episodes.map((e: { return: number }) => e.return)).toEqual(evaluated.online!.returns);
    expect(evaluated.online!.returns).not.toEqual(evaluated.returns); // so the replay tells the two apart
    // The probe's reset choice does not apply to a replay: refused in one line, not ignored.
    const refused = await promisify(execFile)(
      process.execPath,
      [...tsxExecArgv(), script, join(dir, "checkpoint"), "--evaluation", "--reset", "1"],
      { timeout: 120_000 },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr.trim()).toMatch(
      /^error: inspect: --episodes and --reset [^\n]*--evaluation[^\n]*$/,
    );
  }, 180_000);
});
