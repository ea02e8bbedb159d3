import { EnvError, type Env } from "../core/env.ts";
import { Box, type TypedArray } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";

/** Presents a Box observation of any shape as a vector [size]; the values are already stored flat. */
export class FlattenObservation<Act> extends Wrapper<TypedArray, Act> {
  private readonly flat: Box;
  constructor(env: Env<TypedArray, Act>) {
    super(env);
    const inner = env.observationSpace;
    if (!(inner instanceof Box))
      throw new EnvError(`FlattenObservation: ${env.label} must have a Box observation space, got ${inner}`);
    this.flat = new Box(inner.low, inner.high, [inner.size], inner.dtype);
  }
  override get observationSpace(): Box {
    return this.flat;
  }
}
