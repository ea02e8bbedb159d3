// The local heads (localHeads.ts) stepped on code indices, each distinct neighbourhood computed once.
// A search expands hundreds of grids whose cells are nearly all alike (a wall among walls, floor
// among floor): per cell the heads depend only on its 9 neighbours' codes and the action, so those
// make a key, and the MLP runs once per key not yet met (weights are fixed within a search). On
// FourRooms-11 that is a few thousand keys instead of 121 rows per grid and action.
// Same outputs as localHeads under mode propagation: each cell's most likely next code, the
// probability of the whole next grid prod_c max_i p_c,i, and the events of each cell as localHeads
// weighs them (cellEvents), summed: r_hat = sum_c r_c and 1 - d_hat = prod_c (1 - sigmoid(t'_c)).
import * as tf from "@tensorflow/tfjs";
import { anyCellLogit, cellEvents, cellOutputs } from "./localHeads.ts";
import type { Mlp } from "./mlp.ts";
import { tidyReadAll } from "../../backend/tidyRead.ts";

export interface LocalStepResult {
  /** [rows, L]: each cell's most likely next code. */
  ids: Int32Array;
  /** [rows]: the probability of that whole next grid. */
  likely: Float64Array;
  reward: Float64Array;
  /** [rows]: 1 - d_hat. */
  alive: Float64Array;
  /** [rows]: 1 where some cell's (neighbourhood, action) key is not in step()'s `seen`; absent without it. */
  novel?: Uint8Array;
}

/** A cell's context and neighbourhood (cellKey): one number while that is exact, else text. */
export type CellKey = number | string;
type Key = CellKey;

export class LocalStep {
  /** Neighbourhood + action key -> [next code, its probability, reward, log(1 - sigmoid(t))]. */
  private readonly known = new Map<Key, [number, number, number, number]>();
  /** The codebook's size |C|. */
  readonly codes: number;

  /**
   * `codebook` [|C| * d]: each code's vector; `neighbours` [L * 9] (neighbourIndices); `actionFeatures`
   * gives the MLP's action input for an action index; `presence`: the inputs end with which codes
   * the grid holds (localHeads' encoder.presence), and so do the keys; `holds` numbers each set of
   * codes a grid held (part of the contexts): share one between steppers for keys that mean the
   * same in all of them (markSeen's).
   */
  constructor(
    private readonly dynamics: Mlp,
    private readonly events: Mlp,
    private readonly codebook: Float32Array,
    private readonly dim: number,
    private readonly neighbours: Int32Array,
    private readonly actionFeatures: (action: number) => ArrayLike<number>,
    private readonly presence = false,
    private readonly holds = new Map<number | string, number>(),
  ) {
    this.codes = codebook.length / dim;
  }

  /** Distinct (neighbourhood, action) keys computed so far. */
  get size(): number {
    return this.known.size;
  }

  /**
   * Grids of code indices [grids, L], each under every one of `actions` actions -> rows
   * k = grid * actions + action: their mode next grids and heads. `actions` stays the same from
   * call to call (the keys number contexts by it). With `seen` (markSeen's keys), `novel` flags
   * the rows with a cell whose key is not in it.
   */
  step(ids: Int32Array, actions: number, seen?: ReadonlySet<Key>): LocalStepResult {
    const cells = this.neighbours.length / 9;
    const grids = ids.length / cells;
    const rows = grids * actions;
    const found = new Array<[number, number, number, number] | undefined>(rows * cells);
    const keys = new Map<number, Key>(); // position -> key, for those not known yet
    const missing = new Map<Key, [number, number]>(); // key -> (row, cell) that shows it
    const novel = seen ? new Uint8Array(rows) : undefined;
    this.eachKey(ids, actions, undefined, (r, c, key) => {
      if (novel && !seen!.has(key)) novel[r] = 1;
      const known = this.known.get(key);
      if (known) found[r * cells + c] = known;
      else {
        keys.set(r * cells + c, key);
        if (!missing.has(key)) missing.set(key, [r, c]);
      }
    });
    if (missing.size > 0) this.compute([...missing.entries()], ids, cells, actions);
    const out: LocalStepResult = {
      ids: new Int32Array(rows * cells),
      likely: new Float64Array(rows).fill(1),
      reward: new Float64Array(rows),
      alive: new Float64Array(rows),
    };
    for (let r = 0; r < rows; r++) {
      let logAlive = 0;
      for (let c = 0; c < cells; c++) {
        const [code, p, rc, la] = found[r * cells + c] ?? this.known.get(keys.get(r * cells + c)!)!;
        out.ids[r * cells + c] = code;
        out.likely[r]! *= p;
        out.reward[r]! += rc;
        logAlive += la;
      }
      out.alive[r] = Math.exp(logAlive);
    }
    if (novel) out.novel = novel;
    return out;
  }

  /** Adds to `seen` the keys of every cell of grids [grids, L], grid g under action taken[g] of `actions`. */
  markSeen(ids: Int32Array, taken: ArrayLike<number>, actions: number, seen: Set<Key>): void {
    this.eachKey(ids, actions, taken, (_r, _c, key) => seen.add(key));
  }

  /**
   * visit(row, cell, key) for every cell of grids [grids, L] under every action (row
   * grid * actions + action), or grid g under `only[g]` alone (row g). A cell's context: the set of
   * codes its grid holds (with presence) and the action; the neighbourhoods' part once per grid.
   */
  private eachKey(
    ids: Int32Array,
    actions: number,
    only: ArrayLike<number> | undefined,
    visit: (row: number, cell: number, key: Key) => void,
  ): void {
    const cells = this.neighbours.length / 9;
    const around = neighbourhoodBuffer(this.codes, cells);
    const span = (this.codes + 1) ** 9;
    for (let g = 0; g < ids.length / cells; g++) {
      neighbourhoodKeys(ids, g, this.neighbours, this.codes + 1, around);
      const held = this.presence ? heldId(this.holds, ids, g, cells) : 0;
      for (let a = only ? only[g]! : 0; a < (only ? only[g]! + 1 : actions); a++) {
        const r = only ? g : g * actions + a;
        for (let c = 0; c < cells; c++) visit(r, c, cellKey(held * actions + a, around, c, span));
      }
    }
  }

  /** Runs the MLP on the missing keys' inputs, one batch. */
  private compute(missing: [Key, [number, number]][], ids: Int32Array, cells: number, actions: number) {
    const d = this.dim;
    const width = 9 * (d + 1) + this.actionFeatures(0).length + (this.presence ? this.codes : 0);
    const x = new Float32Array(missing.length * width);
    // Row r is grid floor(r / actions) under action r mod actions; its cells share its input's tail.
    const tail = memo((r: number) => {
      const action = this.actionFeatures(r % actions);
      return this.presence ? withHeldFlags(action, ids, Math.floor(r / actions), cells, this.codes) : action;
    });
    missing.forEach(([, [r, c]], i) => {
      writeCellInput(x, i, ids, Math.floor(r / actions), c, this.neighbours, this.codebook, d, tail(r));
    });
    const own = Int32Array.from(missing, ([, [r, c]]) => ids[Math.floor(r / actions) * cells + c]!);
    const [logits, reward, logNotEnd] = tidyReadAll(() => {
      const out = cellOutputs(this.dynamics, this.events, tf.tensor2d(x, [missing.length, width]));
      const cell = cellEvents(out.logits, out.events, tf.oneHot(tf.tensor1d(own, "int32"), this.codes));
      // log(1 - sigmoid(t)) = -softplus(t)
      return [out.logits, cell.reward, tf.neg(tf.softplus(cell.endLogit))];
    }) as [Float32Array, Float32Array, Float32Array];
    const size = this.codes;
    missing.forEach(([key], i) => {
      const row = logits.subarray(i * size, (i + 1) * size);
      let best = 0;
      for (let j = 1; j < size; j++) if (row[j]! > row[best]!) best = j;
      let total = 0;
      for (let j = 0; j < size; j++) total += Math.exp(row[j]! - row[best]!);
      this.known.set(key, [best, 1 / total, reward[i]!, logNotEnd[i]!]);
    });
  }
}

/** Room for L neighbourhood keys: numbers while base^9 is exact (base |C| + 1), else text. */
function neighbourhoodBuffer(codes: number, cells: number): Float64Array | string[] {
  return (codes + 1) ** 9 <= Number.MAX_SAFE_INTEGER ? new Float64Array(cells) : new Array<string>(cells);
}

/**
 * Grid g's cells' neighbourhoods as keys into `out` [L]: the 9 neighbours' codes (-1 outside the
 * grid) in base `base`, numbers into a Float64Array, else text.
 */
function neighbourhoodKeys(
  ids: Int32Array,
  g: number,
  neighbours: Int32Array,
  base: number,
  out: Float64Array | string[],
): void {
  const cells = neighbours.length / 9;
  const exact = out instanceof Float64Array;
  for (let c = 0; c < cells; c++) {
    let number = 0;
    let text = "";
    for (let k = 0; k < 9; k++) {
      const n = neighbours[c * 9 + k]!;
      const code = n < 0 ? -1 : ids[g * cells + n]!;
      if (exact) number = number * base + code + 1;
      else text += `,${code}`;
    }
    out[c] = exact ? number : text;
  }
}

/**
 * Cell c's key: its context (a small number) and its neighbourhood (neighbourhoodKeys'), one
 * number context * span + neighbourhood (span = base^9) while that is exact, else text.
 */
function cellKey(context: number, around: Float64Array | string[], c: number, span: number): Key {
  return around instanceof Float64Array && (context + 1) * span <= Number.MAX_SAFE_INTEGER
    ? context * span + around[c]!
    : `${context}:${around[c]}`;
}

/** An input's tail: `action` features, then flags [|C|] of which codes grid g holds (gridPresence's). */
function withHeldFlags(
  action: ArrayLike<number>,
  ids: Int32Array,
  g: number,
  cells: number,
  codes: number,
): Float32Array {
  const tail = new Float32Array(action.length + codes);
  tail.set(action);
  for (let c = 0; c < cells; c++) tail[action.length + ids[g * cells + c]!] = 1;
  return tail;
}

/** f, computed once per argument. */
function memo<T>(f: (r: number) => T): (r: number) => T {
  const seen = new Map<number, T>();
  return (r) => {
    if (!seen.has(r)) seen.set(r, f(r));
    return seen.get(r)!;
  };
}

/** Grid g's set of held codes as a small number, numbered as met in `holds`. */
function heldId(holds: Map<number | string, number>, ids: Int32Array, g: number, cells: number): number {
  const codes = [...new Set(ids.subarray(g * cells, (g + 1) * cells))].sort((p, q) => p - q);
  const set = codes[codes.length - 1]! < 30 ? codes.reduce((m, c) => m | (1 << c), 0) : codes.join(",");
  let id = holds.get(set);
  if (id === undefined) {
    id = holds.size;
    holds.set(set, id);
  }
  return id;
}

/** Row i of x: cell c of grid g's MLP input (localInputs' layout: 9 x (code, inside flag), then the action's features and any presence flags: `context`). */
function writeCellInput(
  x: Float32Array,
  i: number,
  ids: Int32Array,
  g: number,
  c: number,
  neighbours: Int32Array,
  codebook: Float32Array,
  d: number,
  context: ArrayLike<number>,
): void {
  const cells = neighbours.length / 9;
  const width = 9 * (d + 1) + context.length;
  for (let k = 0; k < 9; k++) {
    const n = neighbours[c * 9 + k]!;
    if (n < 0) continue; // outside: zeros, flag 0
    const code = ids[g * cells + n]!;
    for (let j = 0; j < d; j++) x[i * width + k * (d + 1) + j] = codebook[code * d + j]!;
    x[i * width + k * (d + 1) + d] = 1;
  }
  x.set(context, i * width + 9 * (d + 1));
}

/**
 * One expected step of the local heads (localHeads, then the expected next code sum_i p_i c^(i) of
 * each cell) for grids of code indices [N, L] under action features [N, A], without a gradient: the
 * MLPs and the softmax run once per distinct (neighbourhood, action) row, copied back to every row
 * and cell. On FourRooms-11 a value batch's 384 rows x 121 cells hold a few thousand distinct rows.
 * The same numbers as localHeads' on those grids, as each row of a matmul is computed on its own.
 * `toCodes`: weights over the codebook [N, L, |C|] -> codes [N, L, d].
 */
export function distinctExpectedStep(
  dynamics: Mlp,
  events: Mlp,
  ids: Int32Array,
  actionRows: Float32Array,
  codebook: Float32Array,
  dim: number,
  neighbours: Int32Array,
  toCodes: (weights: tf.Tensor3D) => tf.Tensor,
  presence = false,
): { next: tf.Tensor3D; reward: tf.Tensor1D; terminated: tf.Tensor1D } {
  const cells = neighbours.length / 9;
  const n = ids.length / cells;
  const a = actionRows.length / n;
  const size = codebook.length / dim;
  // Each row's context (its action's features, and with presence the set of codes its grid holds)
  // as a small number: rows with the same context share it.
  const holds = new Map<number | string, number>();
  const contextIds = new Map<string, number>();
  const contextOf = Int32Array.from({ length: n }, (_, r) => {
    const held = presence ? heldId(holds, ids, r, cells) : 0;
    const text = `${held}|${actionRows.subarray(r * a, (r + 1) * a).join(",")}`;
    if (!contextIds.has(text)) contextIds.set(text, contextIds.size);
    return contextIds.get(text)!;
  });
  const around = neighbourhoodBuffer(size, cells);
  const span = (size + 1) ** 9;
  const distinct = new Map<Key, number>();
  const shownAt: number[] = []; // distinct row -> its first row * cells + cell
  const back = new Int32Array(n * cells);
  for (let r = 0; r < n; r++) {
    neighbourhoodKeys(ids, r, neighbours, size + 1, around);
    for (let c = 0; c < cells; c++) {
      const key = cellKey(contextOf[r]!, around, c, span);
      let u = distinct.get(key);
      if (u === undefined) {
        u = shownAt.length;
        distinct.set(key, u);
        shownAt.push(r * cells + c);
      }
      back[r * cells + c] = u;
    }
  }
  const tail = memo((r: number) => {
    const action = actionRows.subarray(r * a, (r + 1) * a);
    return presence ? withHeldFlags(action, ids, r, cells, size) : action;
  });
  const width = 9 * (dim + 1) + a + (presence ? size : 0);
  const x = new Float32Array(shownAt.length * width);
  shownAt.forEach((at, i) => {
    const [r, c] = [Math.floor(at / cells), at % cells];
    writeCellInput(x, i, ids, r, c, neighbours, codebook, dim, tail(r));
  });
  const [probs, reward, endLogit] = tidyReadAll(() => {
    const out = cellOutputs(dynamics, events, tf.tensor2d(x, [shownAt.length, width]));
    const own = tf.oneHot(
      tf.tensor1d(
        Int32Array.from(shownAt, (at) => ids[at]!),
        "int32",
      ),
      size,
    );
    const cell = cellEvents(out.logits, out.events, own);
    return [tf.softmax(out.logits), cell.reward, cell.endLogit];
  }) as [Float32Array, Float32Array, Float32Array];
  // Back to every row and cell, copied in JS (WASM's gather takes several times as long). The
  // codebook's matmul runs on all of them: on the distinct rows alone it differed in the last bit.
  const allProbs = new Float32Array(n * cells * size);
  const allReward = new Float32Array(n * cells);
  const allEnd = new Float32Array(n * cells);
  back.forEach((u, i) => {
    allProbs.set(probs.subarray(u * size, (u + 1) * size), i * size);
    allReward[i] = reward[u]!;
    allEnd[i] = endLogit[u]!;
  });
  return tf.tidy(() => ({
    next: toCodes(tf.tensor3d(allProbs, [n, cells, size])) as tf.Tensor3D,
    reward: tf.sum(tf.tensor2d(allReward, [n, cells]), 1) as tf.Tensor1D,
    terminated: anyCellLogit(tf.tensor2d(allEnd, [n, cells])),
  }));
}
