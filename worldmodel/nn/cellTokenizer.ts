// A nearest-neighbour tokenizer over the cells of a grid observation [H, W, C]: each cell's C values
// are one token, and a cell never met before gets the next free code (Dedieu et al. 2025, "Improving
// Transformer World Models for Data-Efficient RL": code words that never move once created give the
// dynamics a constant target). A grid's cells are symbols (object, colour, state), so "nearest"
// here is "equal": the latent of cell (y, x) is the code of its symbol, in every layout alike.
// The table of symbols is a (non-trainable) variable, so checkpoints keep which code each symbol got.
import * as tf from "@tensorflow/tfjs";
import { newVariable } from "./mlp.ts";

export class CellTokenizer {
  /** [codes, C + 1]: each code's cell values, then 1 where the code is taken. */
  readonly table: tf.Variable;
  readonly cells: number;
  private readonly channels: number;
  /** Symbol key -> code, rebuilt from `table` whenever a checkpoint replaces it. */
  private readonly known = new Map<string, number>();
  /**
   * The same codes keyed by one number per cell: each channel's value numbered as met (at most 256
   * per channel), packed base 256. A grid's preprocessed symbols are a few floats per channel (0.1 k),
   * and this spares a string per cell. Filled from `known`, never ahead of it.
   */
  private readonly packed = new Map<number, number>();
  /** Per channel: value -> its number in `packed`'s keys. */
  private readonly valueIds: Map<number, number>[];
  private tableData: object | undefined;

  /** input [H, W, C]; `codes` the codebook's size (the most distinct cells it can name). */
  constructor(
    input: readonly number[],
    readonly codes: number,
    readonly name = "cells",
  ) {
    if (input.length !== 3)
      throw new Error(`CellTokenizer: needs [H, W, C] grid observations, got [${input.join(", ")}]`);
    const [h, w, c] = input as [number, number, number];
    this.cells = h * w;
    this.channels = c;
    this.valueIds = Array.from({ length: c }, () => new Map<number, number>());
    this.table = newVariable(() => tf.zeros([codes, c + 1]), false);
  }

  /** Observations [N, H, W, C] -> code indices [N, H W] (int32); new symbols take the next free codes. */
  indices(obs: tf.Tensor): tf.Tensor2D {
    const n = obs.shape[0]!;
    if (obs.size !== n * this.cells * this.channels)
      throw new RangeError(
        `CellTokenizer: expected [N, ${this.cells} cells x ${this.channels}] values, got [${obs.shape.join(", ")}]`,
      );
    this.sync();
    const values = obs.dataSync();
    const out = new Int32Array(n * this.cells);
    const fresh: number[][] = [];
    const c = this.channels;
    const packable = c <= 6; // 256^6 < 2^53: the packed key is exact
    for (let i = 0; i < out.length; i++) {
      let key = packable ? 0 : -1;
      for (let k = 0; k < c && key >= 0; k++) {
        const ids = this.valueIds[k]!;
        const v = values[i * c + k]!;
        let id = ids.get(v);
        if (id === undefined && ids.size < 256) {
          id = ids.size;
          ids.set(v, id);
        }
        key = id === undefined ? -1 : key * 256 + id;
      }
      const hit = key >= 0 ? this.packed.get(key) : undefined;
      if (hit !== undefined) {
        out[i] = hit;
        continue;
      }
      const code = this.codeOf(Array.from(values.subarray(i * c, (i + 1) * c)), fresh);
      if (key >= 0) this.packed.set(key, code);
      out[i] = code;
    }
    if (fresh.length > 0) this.store(fresh);
    return tf.tensor2d(out, [n, this.cells], "int32");
  }

  /** A cell's code by its values' string key; a new symbol takes the next free code (queued in `fresh`). */
  private codeOf(cell: number[], fresh: number[][]): number {
    const key = cell.join(",");
    let code = this.known.get(key);
    if (code === undefined) {
      code = this.known.size;
      if (code >= this.codes)
        throw new Error(
          `CellTokenizer: more distinct cells than the ${this.codes} codes of the codebook (the ${code + 1}th is [${cell.join(", ")}]); use larger FSQ levels`,
        );
      this.known.set(key, code);
      fresh.push([...cell, 1]);
    }
    return code;
  }

  /** Distinct cell symbols named so far. */
  get size(): number {
    this.sync();
    return this.known.size;
  }

  private store(fresh: number[][]): void {
    const rows = Array.from(this.table.arraySync() as number[][]);
    const start = this.known.size - fresh.length;
    fresh.forEach((row, i) => {
      rows[start + i] = row;
    });
    tf.tidy(() => this.table.assign(tf.tensor2d(rows, [this.codes, this.channels + 1])));
    this.tableData = this.table.dataId;
  }

  /** Rebuilds the symbol map when the table was replaced (a checkpoint's load). */
  private sync(): void {
    if (this.tableData === this.table.dataId) return;
    this.known.clear();
    this.packed.clear();
    for (const ids of this.valueIds) ids.clear();
    const rows = this.table.arraySync() as number[][];
    rows.forEach((row, code) => {
      if (row[this.channels] === 1) this.known.set(row.slice(0, this.channels).join(","), code);
    });
    this.tableData = this.table.dataId;
  }

  get variables(): tf.Variable[] {
    return [];
  }

  namedVariables(): [string, tf.Variable][] {
    return [];
  }

  /** The symbol table, for checkpoints (not trained). */
  namedState(): [string, tf.Variable][] {
    return [[`${this.name}/table`, this.table]];
  }

  dispose(): void {
    this.table.dispose();
  }
}
