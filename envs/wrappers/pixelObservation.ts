import { EnvError, type Env, type Frame, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { Box, type TypedArray } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";

export interface PixelObservationOptions {
  /** Output [height, width]; default: the frame's size. Downscaling averages boxes of pixels. */
  resize?: [number, number];
  /** One luminance channel (ITU-R 601: 0.299 R + 0.587 G + 0.114 B) instead of RGB. */
  grayscale?: boolean;
}

/** Replaces the observation with the rendered frame: uint8 [H, W, 3], or [H, W, 1] in grayscale. */
export class PixelObservation<Act> extends Wrapper<TypedArray, Act, unknown, Act> {
  private readonly space: Box;
  private readonly height: number;
  private readonly width: number;
  private readonly channels: number;

  constructor(
    env: Env<unknown, Act>,
    readonly opts: PixelObservationOptions = {},
  ) {
    super(env);
    if (env.renderMode !== "rgb_array")
      throw new EnvError(`PixelObservation: ${env.label} must have renderMode "rgb_array", got ${env.renderMode}`);
    const base = env.unwrapped as Partial<{ frameHeight: number; frameWidth: number }>;
    const [h, w] = opts.resize ?? [base.frameHeight, base.frameWidth];
    if (h === undefined || w === undefined) {
      throw new EnvError(
        `PixelObservation: ${env.label} does not declare its frame size; pass 'resize: [height, width]'`,
      );
    }
    if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
      throw new EnvError(`PixelObservation: 'resize' must be two positive integers [height, width], got [${h}, ${w}]`);
    }
    this.height = h;
    this.width = w;
    this.channels = opts.grayscale ? 1 : 3;
    this.space = new Box(0, 255, [h, w, this.channels], "uint8");
  }

  override get observationSpace(): Box {
    return this.space;
  }

  override reset(args?: ResetArgs): [TypedArray, Info] {
    const [, info] = this.env.reset(args);
    return [this.observeFrame(), info];
  }
  override step(action: Act): StepResult<TypedArray> {
    const [, reward, terminated, truncated, info] = this.env.step(action);
    return [this.observeFrame(), reward, terminated, truncated, info];
  }

  private observeFrame(): Uint8Array {
    const frame = this.env.render();
    if (frame === undefined) throw new EnvError(`PixelObservation: ${this.env.label}.render() returned nothing`);
    return resizeFrame(frame, this.height, this.width, this.channels);
  }
}

/** Box-filter resize (nearest when upscaling) and optional grayscale of an RGB frame. */
export function resizeFrame(frame: Frame, h: number, w: number, channels: 1 | 3 | number): Uint8Array {
  const out = new Uint8Array(h * w * channels);
  const sy = frame.height / h;
  const sx = frame.width / w;
  const sum = [0, 0, 0];
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      sum[0] = sum[1] = sum[2] = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * frame.width + xx) * 3;
          sum[0] += frame.data[i]!;
          sum[1] += frame.data[i + 1]!;
          sum[2] += frame.data[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * w + x) * channels;
      if (channels === 1) out[o] = Math.round((0.299 * sum[0]! + 0.587 * sum[1]! + 0.114 * sum[2]!) / n);
      else for (let c = 0; c < 3; c++) out[o + c] = Math.round(sum[c]! / n);
    }
  }
  return out;
}
