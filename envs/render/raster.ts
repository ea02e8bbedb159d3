// Tiny rasteriser for env frames: shapes are predicates over tile-local coordinates in [0, 1]^2,
// sampled at pixel centres (as MiniGrid's fill_coords). No anti-aliasing, so frames are exact and
// golden-frame tests can demand 0 differing pixels.

export type RGB = readonly [number, number, number];
export type Shape = (x: number, y: number) => boolean;

export const inRect =
  (xmin: number, xmax: number, ymin: number, ymax: number): Shape =>
  (x, y) =>
    x >= xmin && x <= xmax && y >= ymin && y <= ymax;

export const inCircle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** Point in a triangle (sign of the three edge cross products). */
export const inTriangle = (
  a: readonly [number, number],
  b: readonly [number, number],
  c: readonly [number, number],
): Shape => {
  const edge = (p: readonly [number, number], q: readonly [number, number], x: number, y: number) =>
    (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  return (x, y) => {
    const d1 = edge(a, b, x, y);
    const d2 = edge(b, c, x, y);
    const d3 = edge(c, a, x, y);
    return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
  };
};

/** The shape rotated by `quarterTurns` x 90 degrees clockwise (screen coordinates) about the tile centre. */
export const rotated =
  (shape: Shape, quarterTurns: number): Shape =>
  (x, y) => {
    let u = x - 0.5;
    let v = y - 0.5;
    for (let k = 0; k < ((quarterTurns % 4) + 4) % 4; k++) [u, v] = [v, -u];
    return shape(u + 0.5, v + 0.5);
  };

/** A square RGB tile of `size` pixels. */
export class Tile {
  readonly data: Uint8Array;
  constructor(
    readonly size: number,
    background: RGB = [0, 0, 0],
  ) {
    this.data = new Uint8Array(size * size * 3);
    this.fill(() => true, background);
  }
  fill(shape: Shape, color: RGB): this {
    const n = this.size;
    for (let py = 0; py < n; py++) {
      for (let px = 0; px < n; px++) {
        if (!shape((px + 0.5) / n, (py + 0.5) / n)) continue;
        const o = (py * n + px) * 3;
        this.data[o] = color[0];
        this.data[o + 1] = color[1];
        this.data[o + 2] = color[2];
      }
    }
    return this;
  }
  /** Blends every pixel towards white by `amount` (MiniGrid's highlight of visible cells). */
  highlight(amount: number): this {
    for (let i = 0; i < this.data.length; i++)
      this.data[i] = Math.min(255, Math.round(this.data[i]! + (255 - this.data[i]!) * amount));
    return this;
  }
}

/** Copies a tile into a frame of width `frameWidth` pixels at pixel (x0, y0). */
export function blit(frame: Uint8Array, frameWidth: number, tile: Tile, x0: number, y0: number): void {
  const n = tile.size;
  for (let ty = 0; ty < n; ty++) {
    const src = ty * n * 3;
    frame.set(tile.data.subarray(src, src + n * 3), ((y0 + ty) * frameWidth + x0) * 3);
  }
}

/** Fills an axis-aligned pixel rectangle of a frame. */
export function fillPixels(
  frame: Uint8Array,
  frameWidth: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  color: RGB,
): void {
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const o = (y * frameWidth + x) * 3;
      frame[o] = color[0];
      frame[o + 1] = color[1];
      frame[o + 2] = color[2];
    }
  }
}
