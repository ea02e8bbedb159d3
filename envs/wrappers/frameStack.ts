import { EnvError, type Env, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { Box, type TypedArray } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";

/**
 * Stacks the last `k` observations on a new leading axis: [k, ...shape], oldest first (Gymnasium's
 * FrameStackObservation). After reset the stack is filled with the first observation.
 */
export class FrameStack<Act> extends Wrapper<TypedArray, Act> {
  private readonly stacked: Box;
  private readonly frames: TypedArray;
  private readonly frameSize: number;

  constructor(
    env: Env<TypedArray, Act>,
    readonly k: number,
  ) {
    super(env);
    const inner = env.observationSpace;
    if (!(inner instanceof Box))
      throw new EnvError(`FrameStack: ${env.label} must have a Box observation space, got ${inner}`);
    if (!Number.isInteger(k) || k < 1) throw new EnvError(`FrameStack: 'k' must be a positive integer, got ${k}`);
    const tile = (a: Float64Array) => Array.from({ length: k }, () => Array.from(a)).flat();
    this.stacked = new Box(tile(inner.low), tile(inner.high), [k, ...inner.shape], inner.dtype);
    this.frameSize = inner.size;
    this.frames = this.stacked.zeros();
  }
  override get observationSpace(): Box {
    return this.stacked;
  }
  override reset(args?: ResetArgs): [TypedArray, Info] {
    const [obs, info] = super.reset(args);
    for (let i = 0; i < this.k; i++) this.frames.set(obs, i * this.frameSize);
    return [this.frames.slice(), info];
  }
  override step(action: Act): StepResult<TypedArray> {
    const out = super.step(action);
    this.frames.copyWithin(0, this.frameSize);
    this.frames.set(out[0], (this.k - 1) * this.frameSize);
    out[0] = this.frames.slice();
    return out;
  }
  protected override saveWrapperState(): unknown {
    return { frames: Array.from(this.frames) };
  }
  protected override loadWrapperState(state: unknown): void {
    this.frames.set((state as { frames: number[] }).frames);
  }
}
