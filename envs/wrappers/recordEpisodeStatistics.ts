import { performance } from "node:perf_hooks";
import type { Env, Info, ResetArgs, StepResult } from "../core/env.ts";
import { Wrapper } from "../core/wrapper.ts";

export interface EpisodeStatistics {
  /** Return: the sum of rewards. */
  r: number;
  /** Length in steps. */
  l: number;
  /** Wall time in seconds since the episode's reset. */
  t: number;
}

/** Adds `info.episode = {r, l, t}` to the info of the step that ends an episode (Gymnasium). */
export class RecordEpisodeStatistics<Obs, Act> extends Wrapper<Obs, Act> {
  private ret = 0;
  private len = 0;
  private start = 0;
  /** Statistics of every finished episode, oldest first (bounded by `bufferLength`). */
  readonly history: EpisodeStatistics[] = [];

  constructor(
    env: Env<Obs, Act>,
    readonly bufferLength = 100,
  ) {
    super(env);
  }
  override reset(args?: ResetArgs): [Obs, Info] {
    this.ret = 0;
    this.len = 0;
    this.start = performance.now();
    return super.reset(args);
  }
  override step(action: Act): StepResult<Obs> {
    const out = super.step(action);
    this.ret += out[1];
    this.len++;
    if (out[2] || out[3]) {
      const episode = { r: this.ret, l: this.len, t: Math.round(performance.now() - this.start) / 1000 };
      out[4] = { ...out[4], episode };
      this.history.push(episode);
      if (this.history.length > this.bufferLength) this.history.shift();
    }
    return out;
  }
  protected override saveWrapperState(): unknown {
    return { ret: this.ret, len: this.len };
  }
  protected override loadWrapperState(state: unknown): void {
    ({ ret: this.ret, len: this.len } = state as { ret: number; len: number });
    this.start = performance.now();
  }
}
