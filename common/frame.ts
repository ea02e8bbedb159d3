// The picture type shared by the envs (rgb_array rendering) and the image writers below them.

/** An RGB image, row-major, `data.length === width * height * 3`. */
export interface Frame {
  width: number;
  height: number;
  data: Uint8Array;
}
