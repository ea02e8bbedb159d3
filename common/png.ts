// PNG and APNG for RGB frames (pngjs for still images, upng-js for animated episodes).
import { PNG } from "pngjs";
import UPNG from "upng-js";
import type { Frame } from "./frame.ts";
import { writeFileAtomic } from "./atomicWrite.ts";

function toRGBA(frame: Frame): Uint8Array {
  const { width, height, data } = frame;
  if (data.length !== width * height * 3) {
    throw new RangeError(`png: frame data must hold width*height*3 = ${width * height * 3} bytes, got ${data.length}`);
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba[j] = data[i]!;
    rgba[j + 1] = data[i + 1]!;
    rgba[j + 2] = data[i + 2]!;
    rgba[j + 3] = 255;
  }
  return rgba;
}

export function encodePng(frame: Frame): Uint8Array {
  const png = new PNG({ width: frame.width, height: frame.height });
  png.data = Buffer.from(toRGBA(frame));
  return PNG.sync.write(png);
}

/** Decodes a PNG into an RGB frame (alpha dropped). */
export function decodePng(bytes: Uint8Array): Frame {
  const png = PNG.sync.read(Buffer.from(bytes));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; j < png.data.length; i += 3, j += 4) {
    data[i] = png.data[j]!;
    data[i + 1] = png.data[j + 1]!;
    data[i + 2] = png.data[j + 2]!;
  }
  return { width: png.width, height: png.height, data };
}

export function writePng(path: string, frame: Frame): void {
  writeFileAtomic(path, encodePng(frame));
}

/** An animated PNG of equally sized frames, `delayMs` per frame, lossless. */
export function encodeApng(frames: readonly Frame[], delayMs = 100): Uint8Array {
  if (frames.length === 0) throw new RangeError("encodeApng: no frames");
  const { width, height } = frames[0]!;
  const bufs = frames.map((f, i) => {
    if (f.width !== width || f.height !== height)
      throw new RangeError(`encodeApng: frame ${i} is ${f.width}x${f.height}, expected ${width}x${height}`);
    return toRGBA(f).buffer as ArrayBuffer;
  });
  return new Uint8Array(
    UPNG.encode(
      bufs,
      width,
      height,
      0,
      frames.map(() => delayMs),
    ),
  );
}

export function writeApng(path: string, frames: readonly Frame[], delayMs = 100): void {
  writeFileAtomic(path, encodeApng(frames, delayMs));
}

/** Frames side by side, left to right, on a black background (heights may differ). */
export function hstack(frames: readonly Frame[], gap = 2): Frame {
  const width = frames.reduce((w, f) => w + f.width, 0) + gap * (frames.length - 1);
  const height = Math.max(...frames.map((f) => f.height));
  const data = new Uint8Array(width * height * 3);
  let x0 = 0;
  for (const f of frames) {
    for (let y = 0; y < f.height; y++)
      data.set(f.data.subarray(y * f.width * 3, (y + 1) * f.width * 3), (y * width + x0) * 3);
    x0 += f.width + gap;
  }
  return { width, height, data };
}

/** Nearest-neighbour upscaling of an RGB frame by an integer factor. */
export function scaleFrame(f: Frame, k: number): Frame {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`scaleFrame: factor must be a positive integer, got ${k}`);
  const w = f.width * k;
  const data = new Uint8Array(w * f.height * k * 3);
  for (let y = 0; y < f.height * k; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / k) * f.width + Math.floor(x / k)) * 3;
      data.set(f.data.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: f.height * k, data };
}
