// PointMass-v0: steer a point mass with a continuous 2-D force towards a target in the square
// [-1, 1]^2 (in the spirit of dm_control's point_mass). A task for planners over continuous actions.
//   v <- damping * v + force * a,  p <- p + v; walls stop the point (that velocity component -> 0).
//   reward = 1 inside the target radius, falling linearly to 0 at `margin` beyond it (dm_control's
//   linear tolerance). No termination: episodes end by the time limit.
// Actions: float32 [2] in [-1, 1]. Observation: "pixels" (default) uint8 [S, S, 2], channel 0 the
// point and channel 1 the target, each a disc whose pixel values are its area coverage (0..255),
// so sub-pixel positions stay visible; or "state": float32 [6] = (x, y, vx, vy, tx, ty).
import type { Rng } from "../../common/rng.ts";
import { ArrayEnv, type EnvState } from "../core/env.ts";
import { StateReader } from "../core/stateReader.ts";
import { check, resolveOptions } from "../core/options.ts";
import { Box, type TypedArray } from "../core/spaces.ts";

export interface PointMassOptions extends Record<string, unknown> {
  observation: "pixels" | "state";
  /** Side of the observation image in pixels. */
  imageSize: number;
  /** Side of the rendered RGB frame in pixels. */
  frameSize: number;
  targetRadius: number;
  margin: number;
  damping: number;
  force: number;
  /**
   * Standard deviation of Gaussian noise added to each action component (then clipped to [-1, 1])
   * before it moves the point. 0: deterministic.
   */
  actionNoise: number;
}

const POINT_RADIUS = 0.08;
const SUPERSAMPLE = 4;
const POINT_RGB = [230, 60, 60] as const;
const TARGET_RGB = [60, 200, 90] as const;
const BACKGROUND_RGB = [24, 24, 32] as const;

export class PointMass extends ArrayEnv<ArrayLike<number>> {
  override readonly defaultId = "PointMass-v0";
  readonly options: PointMassOptions;
  readonly observationSpace: Box;
  readonly actionSpace = new Box(-1, 1, [2], "float32");
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly pos = new Float64Array(2);
  readonly vel = new Float64Array(2);
  readonly target = new Float64Array(2);
  private readonly coverage: Float32Array;

  constructor(options?: Partial<PointMassOptions>) {
    super();
    this.options = resolveOptions(
      "PointMass-v0",
      {
        observation: "pixels",
        imageSize: 32,
        frameSize: 64,
        targetRadius: 0.15,
        margin: 1,
        damping: 0.8,
        force: 0.1,
        actionNoise: 0,
      },
      {
        observation: check.oneOf(["pixels", "state"]),
        imageSize: check.int(8, 256),
        frameSize: check.int(8, 1024),
        targetRadius: check.number(0.01, 1),
        margin: check.number(0.01, 4),
        damping: check.number(0, 1),
        force: check.number(0.001, 1),
        actionNoise: check.number(0, 10),
      },
      options,
    );
    const s = this.options.imageSize;
    this.observationSpace =
      this.options.observation === "pixels"
        ? new Box(0, 255, [s, s, 2], "uint8")
        : new Box(-Infinity, Infinity, [6], "float32");
    this.frameWidth = this.frameHeight = this.options.frameSize;
    this.coverage = new Float32Array(s * s);
  }

  protected resetState(rng: Rng): void {
    for (let i = 0; i < 2; i++) {
      this.pos[i] = rng.uniform(-0.9, 0.9);
      this.target[i] = rng.uniform(-0.8, 0.8);
      this.vel[i] = 0;
    }
  }

  /** Distance from the point to the target centre. */
  distance(): number {
    return Math.hypot(this.pos[0]! - this.target[0]!, this.pos[1]! - this.target[1]!);
  }

  protected transition(action: ArrayLike<number>): number {
    const { damping, force, targetRadius, margin, actionNoise } = this.options;
    for (let i = 0; i < 2; i++) {
      // The draw only with noise, so that deterministic runs keep their random stream.
      const a = actionNoise > 0 ? Math.min(1, Math.max(-1, action[i]! + actionNoise * this.rng!.normal())) : action[i]!;
      this.vel[i] = damping * this.vel[i]! + force * a;
      let p = this.pos[i]! + this.vel[i]!;
      if (p < -1 || p > 1) {
        p = p < -1 ? -1 : 1;
        this.vel[i] = 0;
      }
      this.pos[i] = p;
    }
    const d = this.distance();
    return d <= targetRadius ? 1 : Math.max(0, 1 - (d - targetRadius) / margin);
  }

  protected writeObs(out: TypedArray, offset: number): void {
    if (this.options.observation === "state") {
      out.set([this.pos[0]!, this.pos[1]!, this.vel[0]!, this.vel[1]!, this.target[0]!, this.target[1]!], offset);
      return;
    }
    const s = this.options.imageSize;
    out.fill(0, offset, offset + s * s * 2);
    for (const [channel, centre, radius] of [
      [0, this.pos, POINT_RADIUS],
      [1, this.target, this.options.targetRadius],
    ] as const) {
      discCoverage(this.coverage, s, centre[0]!, centre[1]!, radius);
      for (let i = 0; i < s * s; i++) out[offset + i * 2 + channel] = Math.round(255 * this.coverage[i]!);
    }
  }

  protected draw(out: Uint8Array): void {
    const s = this.options.frameSize;
    const point = new Float32Array(s * s);
    const target = new Float32Array(s * s);
    discCoverage(point, s, this.pos[0]!, this.pos[1]!, POINT_RADIUS);
    discCoverage(target, s, this.target[0]!, this.target[1]!, this.options.targetRadius);
    for (let i = 0; i < s * s; i++) {
      for (let c = 0; c < 3; c++) {
        const base = BACKGROUND_RGB[c] + (TARGET_RGB[c] - BACKGROUND_RGB[c]) * target[i]!;
        out[i * 3 + c] = Math.round(base + (POINT_RGB[c] - base) * point[i]!);
      }
    }
  }

  protected saveState(): EnvState {
    return { pos: Array.from(this.pos), vel: Array.from(this.vel), target: Array.from(this.target) };
  }
  protected loadState(state: EnvState): void {
    const read = new StateReader(`${this.label}.setState`, state);
    const pos = read.numbers("pos", 2, -1, 1);
    const vel = read.numbers("vel", 2, -1e6, 1e6);
    const target = read.numbers("target", 2, -1, 1);
    this.pos.set(pos);
    this.vel.set(vel);
    this.target.set(target);
  }
}

/**
 * Fraction of each pixel of an s x s image of [-1, 1]^2 (y down) covered by a disc, estimated on a
 * SUPERSAMPLE x SUPERSAMPLE grid of sample points. Only pixels near the disc are visited.
 */
function discCoverage(out: Float32Array, s: number, cx: number, cy: number, r: number): void {
  out.fill(0);
  const toPix = (v: number) => ((v + 1) / 2) * s;
  const px = toPix(cx);
  const py = toPix(cy);
  const pr = (r / 2) * s;
  const r2 = pr * pr;
  const x0 = Math.max(0, Math.floor(px - pr));
  const x1 = Math.min(s - 1, Math.ceil(px + pr));
  const y0 = Math.max(0, Math.floor(py - pr));
  const y1 = Math.min(s - 1, Math.ceil(py + pr));
  const inv = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = x + (sx + 0.5) / SUPERSAMPLE - px;
          const dy = y + (sy + 0.5) / SUPERSAMPLE - py;
          if (dx * dx + dy * dy <= r2) hits++;
        }
      }
      out[y * s + x] = hits * inv;
    }
  }
}
