// npm run bench -- envs: steps/s per env for one env through the full API (make: checker,
// order enforcing, time limit), one bare env, and a 64-env vector env with and without rendering.
// Prints JSON lines, then a table with ratios to the single made env measured in the same run.
import { type ArrayEnv, make, makeBare, makeVec, registeredIds, type Env } from "../envs/index.ts";
import { medianRate, printTable } from "./timing.ts";

const NUM_ENVS = 64;

/** Pre-drawn actions so that the loop measures the env, not the sampler. */
function actionsFor(env: Env<any, any>, n: number): unknown[] {
  env.actionSpace.seed(0);
  return Array.from({ length: n }, () => env.actionSpace.sample());
}

function singleRate(env: Env<any, any>, steps: number): number {
  const actions = actionsFor(env, 4096);
  env.reset({ seed: 0 });
  return medianRate(() => {
    for (let t = 0; t < steps; t++) {
      const out = env.step(actions[t & 4095]);
      if (out[2] || out[3]) env.reset();
    }
  }, steps);
}

function vectorRate(id: string, steps: number, render: boolean): number {
  const vec = makeVec(id, NUM_ENVS, {}, { copy: false });
  const single = makeBare(id) as ArrayEnv;
  const frame = new Uint8Array(single.frameWidth * single.frameHeight * 3);
  const pool = actionsFor(single, 4096);
  const isBox = !(typeof pool[0] === "number");
  const batches = Array.from({ length: 64 }, (_, b) =>
    isBox
      ? Float32Array.from(
          Array.from({ length: NUM_ENVS }, (_, i) =>
            Array.from(pool[(b * NUM_ENVS + i) & 4095] as Float32Array),
          ).flat(),
        )
      : Int32Array.from({ length: NUM_ENVS }, (_, i) => pool[(b * NUM_ENVS + i) & 4095] as number),
  );
  vec.reset({ seed: 0 });
  const calls = Math.max(1, Math.round(steps / NUM_ENVS));
  return medianRate(() => {
    for (let t = 0; t < calls; t++) {
      vec.step(batches[t & 63]!);
      if (render) for (const env of vec.envs) (env as unknown as ArrayEnv).renderInto(frame);
    }
  }, calls * NUM_ENVS);
}

/** Step + render of one bare grid env with `tileSize`-pixel tiles: frames/s (MiniGrid's own tiles are 32 px). */
function frameRate(id: string, tileSize: number, steps: number, render: boolean): number {
  const env = makeBare(id, { tileSize }) as ArrayEnv;
  const frame = new Uint8Array(env.frameWidth * env.frameHeight * 3);
  const actions = actionsFor(env, 4096) as number[];
  env.reset({ seed: 0 });
  return medianRate(() => {
    for (let t = 0; t < steps; t++) {
      env.stepInto(actions[t & 4095]!, env.observationSpace.zeros(), 0);
      if (env.terminated || env.elapsed >= 256) env.reset();
      if (render) env.renderInto(frame);
    }
  }, steps);
}

export function benchEnvs(args: string[]): void {
  const quick = args.includes("--quick");
  const ids = args.filter((a) => !a.startsWith("--"));
  const selected = ids.length ? ids : registeredIds();
  const steps = quick ? 20_000 : 200_000;
  console.log(`# env steps/s, median of 5 runs of ${steps} steps; vector env of ${NUM_ENVS} with copy: false`);
  const rows: Record<string, string | number>[] = [];
  for (const id of selected) {
    const made = singleRate(make(id), steps);
    const bare = singleRate(makeBare(id), steps);
    const vec = vectorRate(id, steps, false);
    const vecRender = vectorRate(id, Math.round(steps / 20), true);
    const rec = {
      bench: "envs",
      env: id,
      made_steps_per_s: made,
      bare_steps_per_s: bare,
      vector_steps_per_s: vec,
      vector_render_steps_per_s: vecRender,
    };
    console.log(JSON.stringify(rec));
    rows.push({
      env: id,
      "make()": made,
      bare,
      [`vec${NUM_ENVS}`]: vec,
      [`vec${NUM_ENVS}+render`]: vecRender,
      "bare/make": bare / made,
      "vec/make": vec / made,
    });
  }
  printTable(rows);
  const grids = selected.filter((id) => id.startsWith("Grid"));
  if (grids.length === 0) return;
  const frameSteps = quick ? 2_000 : 20_000;
  console.log(
    `# grid envs, one bare env: step + render (rgb_array) frames/s at 8 and 32 px tiles, against stepping alone; median of 5 runs of ${frameSteps} steps`,
  );
  const frames: Record<string, string | number>[] = [];
  for (const id of grids) {
    const steps = frameRate(id, 8, frameSteps, false);
    const f8 = frameRate(id, 8, frameSteps, true);
    const f32 = frameRate(id, 32, frameSteps, true);
    console.log(
      JSON.stringify({
        bench: "envs-render",
        env: id,
        steps_per_s: steps,
        frames_per_s_8px: f8,
        frames_per_s_32px: f32,
      }),
    );
    frames.push({ env: id, "steps/s": steps, "frames/s 8px": f8, "frames/s 32px": f32, "32px / steps": f32 / steps });
  }
  printTable(frames);
}
