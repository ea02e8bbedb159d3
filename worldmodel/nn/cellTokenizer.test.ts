import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/init.ts";
import { CellTokenizer } from "./cellTokenizer.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

/** Code indices of a batch of [2, 2, 2] grids given cell by cell. */
function codesOf(tok: CellTokenizer, grids: number[][][]): number[][] {
  return tf.tidy(() => tok.indices(tf.tensor(grids.flat(2), [grids.length, 2, 2, 2])).arraySync() as number[][]);
}

describe("CellTokenizer (fixed codes per cell symbol)", () => {
  it("gives a symbol the next free code when first met, and the same code wherever it stands later", () => {
    const tok = new CellTokenizer([2, 2, 2], 4);
    const wall = [2, 5];
    const floor = [1, 0];
    const agent = [10, 3];
    expect(codesOf(tok, [[wall, floor, floor, agent]])).toEqual([[0, 1, 1, 2]]);
    // Another layout: the same symbols elsewhere keep their codes; a new one (a goal) takes code 3.
    expect(
      codesOf(tok, [
        [agent, wall, [8, 1], floor],
        [floor, floor, floor, wall],
      ]),
    ).toEqual([
      [2, 0, 3, 1],
      [1, 1, 1, 0],
    ]);
    expect(tok.size).toBe(4);
    tok.dispose();
  });

  it("names a cell the same whether its values pack into bytes or not (fractions, past 255, negative)", () => {
    const tok = new CellTokenizer([2, 2, 2], 8);
    const grid = [
      [1, 0],
      [0.5, 2],
      [256, 1],
      [-1, 255],
    ];
    expect(codesOf(tok, [grid, [...grid].reverse(), grid])).toEqual([
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [0, 1, 2, 3],
    ]);
    // A checkpoint's table read afresh: the byte keys are rebuilt from it, the codes the same.
    const b = new CellTokenizer([2, 2, 2], 8);
    b.table.assign(tok.table);
    expect(codesOf(b, [[grid[3]!, [255, 255], grid[0]!, [0, 1]]])).toEqual([[3, 4, 0, 5]]);
    tok.dispose();
    b.dispose();
  });

  it("names cells alike past 256 distinct values in a channel (where the packed keys run out)", () => {
    const tok = new CellTokenizer([2, 2, 2], 400);
    // 300 symbols whose second channel takes 300 fractional values, four to a grid, met twice.
    const grids = Array.from({ length: 75 }, (_, g) => Array.from({ length: 4 }, (_, c) => [0, (4 * g + c) / 10]));
    const expected = grids.map((_, g) => [0, 1, 2, 3].map((c) => 4 * g + c));
    expect(codesOf(tok, grids)).toEqual(expected);
    expect(codesOf(tok, [...grids].reverse())).toEqual([...expected].reverse());
    // A new first value with the first second value: a symbol of its own (packed with the second
    // channel's 257th value numbered, it would have read as symbol 256).
    expect(
      codesOf(tok, [
        [
          [0.5, 0],
          [0, 25.6],
          [0.5, 0],
          [0, 0],
        ],
      ]),
    ).toEqual([[300, 256, 300, 0]]);
    expect(tok.size).toBe(301);
    tok.dispose();
  });

  it("refuses a symbol past the codebook's size, naming it", () => {
    const tok = new CellTokenizer([2, 2, 2], 3);
    expect(() =>
      codesOf(tok, [
        [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 7],
        ],
      ]),
    ).toThrow(/more distinct cells than the 3 codes of the codebook \(the 4th is \[4, 7\]\); use larger FSQ levels/);
    tok.dispose();
  });

  it("keeps its codes through its table (what a checkpoint saves and loads)", () => {
    const a = new CellTokenizer([2, 2, 2], 4);
    codesOf(a, [
      [
        [5, 5],
        [1, 0],
        [2, 5],
        [1, 0],
      ],
    ]);
    const b = new CellTokenizer([2, 2, 2], 4);
    b.table.assign(a.table);
    // b meets the symbols in another order but names them as a did; a new one continues a's count.
    expect(
      codesOf(b, [
        [
          [2, 5],
          [9, 9],
          [5, 5],
          [1, 0],
        ],
      ]),
    ).toEqual([[2, 3, 0, 1]]);
    a.dispose();
    b.dispose();
  });

  it("refuses what is not a grid, and a batch of the wrong size", () => {
    expect(() => new CellTokenizer([64], 16)).toThrow(/needs \[H, W, C\] grid observations, got \[64\]/);
    const tok = new CellTokenizer([2, 2, 2], 4);
    expect(() => tf.tidy(() => tok.indices(tf.zeros([1, 3, 2, 2])))).toThrow(/expected \[N, 4 cells x 2\] values/);
    tok.dispose();
  });
});
