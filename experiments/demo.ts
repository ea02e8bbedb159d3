// The suite demo (the default job until the agent lands): one random-policy episode per env,
// written as an APNG, and a table of steps/s for a 64-env vector env.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { writeApng } from "../common/png.ts";
import { make, makeVec, registeredIds, type Frame } from "../envs/index.ts";

export interface DemoOptions {
  out: string;
  seed: number;
  /** Frames per episode APNG at most. */
  maxFrames: number;
}

function randomEpisode(id: string, seed: number, maxFrames: number): { frames: Frame[]; ret: number; length: number } {
  const env = make(id);
  env.actionSpace.seed(seed);
  env.reset({ seed });
  const frames = [env.render()!];
  let ret = 0;
  let length = 0;
  for (;;) {
    const [, r, terminated, truncated] = env.step(env.actionSpace.sample());
    ret += r;
    length++;
    if (frames.length < maxFrames) frames.push(env.render()!);
    if (terminated || truncated) break;
  }
  return { frames, ret, length };
}

function vectorStepsPerSecond(id: string, seconds = 0.5): number {
  const n = 64;
  const vec = makeVec(id, n, {}, { copy: false });
  vec.reset({ seed: 0 });
  vec.actionSpace.seed(0);
  const batches = Array.from({ length: 16 }, () => vec.actionSpace.sample() as ArrayLike<number>);
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 16; k++) vec.step(batches[k]!);
    calls += 16;
  }
  return (calls * n) / ((performance.now() - t0) / 1000);
}

export function runDemo(opts: DemoOptions): void {
  console.log(`gumbel-worlds: environment suite demo -> ${opts.out}`);
  const rows = [];
  for (const id of registeredIds()) {
    const { frames, ret, length } = randomEpisode(id, opts.seed, opts.maxFrames);
    const file = join(opts.out, `${id}.apng`);
    writeApng(file, frames, 100);
    const rate = vectorStepsPerSecond(id);
    rows.push({
      env: id,
      episodeReturn: ret,
      episodeLength: length,
      vectorStepsPerSecond: Math.round(rate),
      apng: file,
    });
  }
  writeFileAtomic(join(opts.out, "demo.json"), JSON.stringify({ seed: opts.seed, rows }, null, 2) + "\n");
  console.log(
    ["env".padEnd(18), "return".padStart(8), "length".padStart(7), "steps/s (64 envs)".padStart(18), "  episode"].join(
      "",
    ),
  );
  for (const r of rows) {
    console.log(
      `${r.env.padEnd(18)}${r.episodeReturn.toFixed(3).padStart(8)}${String(r.episodeLength).padStart(7)}${r.vectorStepsPerSecond.toLocaleString("en-US").padStart(18)}  ${r.apng}`,
    );
  }
}
