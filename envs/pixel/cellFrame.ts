// Rendering of small boards of cells (Catch, Breakout): each cell becomes a square of pixels.
import { fillPixels, type RGB } from "../render/raster.ts";

/** Paints a rows x cols board; `colorOf(r, c)` gives each cell's colour. */
export function drawBoard(
  out: Uint8Array,
  rows: number,
  cols: number,
  cell: number,
  colorOf: (r: number, c: number) => RGB,
): void {
  const width = cols * cell;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) fillPixels(out, width, c * cell, r * cell, cell, cell, colorOf(r, c));
  }
}
