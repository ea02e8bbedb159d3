// The local heads (localHeads.ts) stepped on code indices, each distinct neighbourhood computed once.
// A search expands hundreds of grids whose cells are nearly all alike (a wall among walls, floor
// among floor): per cell the heads depend only on its K neighbours' codes (with presence, and the
// set of codes its grid holds) and the action. The neighbourhood makes a key, looked up once per
// cell for all actions, and the MLP runs under every action once per key not yet met (weights are
// fixed within a search). On FourRooms-11 that is a few thousand keys instead of 121 rows per grid
// and action.
// Same outputs as localHeads under mode propagation: each cell's most likely next code, the
// probability of the whole next grid prod_c max_i p_c,i, and the events of each cell as localHeads
// weighs them (cellEvents), summed: r_hat = sum_c r_c and 1 - d_hat = prod_c (1 - sigmoid(t'_c)).
import * as tf from "@tensorflow/tfjs";
import { anyCellLogit, cellEvents, cellOutputs } from "./localHeads.ts";
import type { Mlp } from "./mlp.ts";
import { tidyReadAll } from "../../backend/tidyRead.ts";
import { KeyIds } from "../../common/keyIds.ts";

export interface LocalStepResult {
  /** [rows, L]: each cell's most likely next code. */
  ids: Int32Array;
  /** [rows]: the probability of that whole next grid. */
  likely: Float64Array;
  reward: Float64Array;
  /** [rows]: 1 - d_hat. */
  alive: Float64Array;
  /** [rows]: 1 where some cell's (neighbourhood, action) is not in step()'s `seen`; absent without it. */
  novel?: Uint8Array;
  /** [rows]: cells whose next code is step()'s `shown` one instead of the model's; absent without it. */
  shown?: Int32Array;
  /**
   * [rows]: the model's second guess where it is least sure: the cell whose most likely code has the
   * lowest probability, that cell's second most likely code, and the probability of the grid with
   * it there instead (likely * p_second / p_first).
   */
  second: { cell: Int32Array; code: Int32Array; likely: Float64Array };
}

/** A cell's context and neighbourhood (cellKey): one number while that is exact, else text. */
export type CellKey = number | string;
type Key = CellKey;

/**
 * A set of (cell key, action) pairs, held per key as flags over the actions: a search asks it about
 * every action of a cell at once, with one lookup.
 */
export class CellActionSet {
  private readonly flags = new Map<Key, Uint8Array>();
  private pairs = 0;
  /** Bumped by every add (a stepper's lookups of it stay good until then). */
  revision = 0;

  constructor(readonly actions: number) {}

  add(key: Key, action: number): void {
    this.revision++;
    let at = this.flags.get(key);
    if (at === undefined) {
      at = new Uint8Array(this.actions);
      this.flags.set(key, at);
    }
    if (at[action] === 0) this.pairs++;
    at[action] = 1;
  }

  /** Flags [actions] of the actions held with `key`; undefined where it holds none. */
  actionsAt(key: Key): Uint8Array | undefined {
    return this.flags.get(key);
  }

  /** (key, action) pairs held. */
  get size(): number {
    return this.pairs;
  }

  /** Every pair held. */
  *entries(): IterableIterator<[Key, number]> {
    for (const [key, at] of this.flags) for (let a = 0; a < at.length; a++) if (at[a]) yield [key, a];
  }
}

/** CellOutcomes' marks beside a code: no step shown yet, or steps that led to different codes. */
const UNSHOWN = -1;
const MIXED = -2;
/** CellOutcomes' event marks: every step of the pair neither paid nor ended, or some step did. */
export const QUIET = 1;
const EVENTFUL = 2;

/**
 * The next code each (cell key, action) pair led to in the env, where every step of that pair led to
 * the same one (a deterministic grid's local rule, shown); a pair shown leading to two codes has none.
 * And whether every step the pair was part of was quiet (no reward, no ending): in a grid whose
 * events are local (a goal, lava), such a cell pays nothing and ends nothing.
 */
export class CellOutcomes {
  /** Key -> per action its code (or a mark), then per action its event mark (0: none shown). */
  private readonly codes = new Map<Key, Int32Array>();
  /** Bumped by every add (a stepper's lookups of it stay good until then). */
  revision = 0;

  constructor(readonly actions: number) {}

  /** A step of the pair to code `next`; `eventful`: that step paid or ended the episode (unset: not known). */
  add(key: Key, action: number, next: number, eventful?: boolean): void {
    this.revision++;
    let at = this.codes.get(key);
    if (at === undefined) {
      at = new Int32Array(2 * this.actions).fill(UNSHOWN, 0, this.actions);
      this.codes.set(key, at);
    }
    if (at[action] === UNSHOWN) at[action] = next;
    else if (at[action] !== next) at[action] = MIXED;
    const mark = this.actions + action;
    if (eventful) at[mark] = EVENTFUL;
    else if (eventful === false && at[mark] === 0) at[mark] = QUIET;
  }

  /**
   * Per action [actions], the code each always led to from `key`, or negative; then per action
   * [actions] its event mark (QUIET: every step shown was quiet); undefined where no step was shown.
   */
  actionsAt(key: Key): Int32Array | undefined {
    return this.codes.get(key);
  }

  /** Pairs shown leading to one code only. */
  get size(): number {
    let n = 0;
    for (const at of this.codes.values()) for (let a = 0; a < this.actions; a++) if (at[a]! >= 0) n++;
    return n;
  }
}

/**
 * A neighbourhood's outputs under each action a, OUT values from OUT * a: next code, its probability,
 * reward, log(1 - sigmoid(t)), the second most likely code and its probability.
 */
type Outputs = Float64Array;
const OUT = 6;

/**
 * A key a stepper has met: its outputs (once computed), and what step()'s `seen` and `shown` hold
 * for it, looked up once per key and revision of those sets rather than once per cell.
 */
/** The sets a stepper's lookups were read from, each with its revision then. */
type LookedUp = [CellActionSet | undefined, number, CellOutcomes | undefined, number];

interface Met {
  /** The key as the sets hold it (eachKey's). */
  key: Key;
  outputs: Outputs | undefined;
  seen: Uint8Array | undefined;
  shown: Int32Array | undefined;
  /** The stepper's `lookups` these were read at. */
  lookups: number;
}

export class LocalStep {
  /** Neighbourhood keys' ids, and by id each key's outputs under every action and its lookups. */
  private readonly ids = new KeyIds();
  private readonly met: Met[] = [];
  /** Numbers the (seen, shown) sets and revisions the keys' lookups were read from. */
  private lookups = 0;
  private lookedUp: LookedUp = [undefined, 0, undefined, 0];
  /** Where the sets' keys are text (base^K past 2^53): numbers for this stepper's own keys. */
  private readonly chunked: ChunkedKeys | undefined;
  /** The action count the known outputs are for (the first step's). */
  private actions: number | undefined;
  /** The codebook's size |C|. */
  readonly codes: number;

  /**
   * `codebook` [|C| * d]: each code's vector; `neighbours` [L * K] (neighbourIndices), `window` the
   * cells K in each (neighbourhoodSize); `actionFeatures`
   * gives the MLP's action input for an action index; `presence`: the inputs end with which codes
   * the grid holds (localHeads' encoder.presence), and so do the keys; `holds` numbers each set of
   * codes a grid held (part of the keys): share one between steppers for keys that mean the same in
   * all of them (markSeen's).
   */
  constructor(
    private readonly dynamics: Mlp,
    private readonly events: Mlp,
    private readonly codebook: Float32Array,
    private readonly dim: number,
    private readonly neighbours: Int32Array,
    private readonly window: number,
    private readonly actionFeatures: (action: number) => ArrayLike<number>,
    private readonly presence = false,
    private readonly holds = new Map<number | string, number>(),
  ) {
    this.codes = codebook.length / dim;
    if (keysAsText(this.codes, window)) this.chunked = new ChunkedKeys(this.codes + 1, neighbours, window);
  }

  /** Distinct (neighbourhood, action) pairs computed so far. */
  get size(): number {
    return this.met.length * (this.actions ?? 0);
  }

  /**
   * Grids of code indices [grids, L], each under every one of `actions` actions -> rows
   * k = grid * actions + action: their mode next grids and heads. `actions` stays the same from
   * call to call (a neighbourhood's outputs are kept for all of them). With `seen` (markSeen's),
   * `novel` flags the rows with a cell whose (neighbourhood, action) is not in it. With `shown`
   * (markOutcomes'), a cell whose (neighbourhood, action) the env always took to one code takes that
   * code, with probability 1, whatever the heads predict (the reward and ending stay theirs); with
   * `quiet` too, a cell whose pair was only ever part of quiet steps pays and ends nothing.
   */
  step(ids: Int32Array, actions: number, seen?: CellActionSet, shown?: CellOutcomes, quiet = false): LocalStepResult {
    this.actions ??= actions;
    if (actions !== this.actions)
      throw new RangeError(`LocalStep: stepped under ${actions} actions after ${this.actions} (one count per stepper)`);
    for (const set of [seen, shown])
      if (set && set.actions !== actions)
        throw new RangeError(`LocalStep: a set of steps under ${set.actions} actions asked about ${actions}`);
    const cells = this.neighbours.length / this.window;
    const grids = ids.length / cells;
    const rows = grids * actions;
    const found = new Array<Met>(grids * cells);
    // Keys met for the first time: the position (grid * cells + cell) that shows each, and its entry.
    const missing: number[] = [];
    const fresh: Met[] = [];
    const novel = seen ? new Uint8Array(rows) : undefined;
    const now: LookedUp = [seen, seen?.revision ?? 0, shown, shown?.revision ?? 0];
    if (now.some((v, i) => v !== this.lookedUp[i])) {
      this.lookups++;
      this.lookedUp = now;
    }
    const lookups = this.lookups;
    // Keyed by this stepper's own numbers where the sets' keys are text (made once per key met).
    const visit = (g: number, c: number, key: Key, held: number) => {
      let met = this.met[this.ids.idOf(key)];
      if (met === undefined) {
        const setKey = this.chunked ? textKey(held, ids, g, c, this.neighbours, this.window) : key;
        met = { key: setKey, outputs: undefined, seen: undefined, shown: undefined, lookups: -1 };
        this.met.push(met);
        missing.push(g * cells + c);
        fresh.push(met);
      }
      if (met.lookups !== lookups) {
        met.seen = seen?.actionsAt(met.key);
        met.shown = shown?.actionsAt(met.key);
        met.lookups = lookups;
      }
      found[g * cells + c] = met;
      if (novel) {
        const taken = met.seen;
        for (let a = 0; a < actions; a++) if (!taken?.[a]) novel[g * actions + a] = 1;
      }
    };
    if (this.chunked) this.eachChunkedKey(ids, this.chunked, visit);
    else this.eachKey(ids, visit);
    if (missing.length > 0) this.compute(missing, fresh, ids, cells, actions);
    const out: LocalStepResult = {
      ids: new Int32Array(rows * cells),
      likely: new Float64Array(rows).fill(1),
      reward: new Float64Array(rows),
      alive: new Float64Array(rows),
      second: { cell: new Int32Array(rows), code: new Int32Array(rows), likely: new Float64Array(rows) },
      ...(shown && { shown: new Int32Array(rows) }),
    };
    const logAlive = new Float64Array(rows);
    const leastSure = new Float64Array(rows).fill(2);
    const secondP = new Float64Array(rows);
    for (let g = 0; g < grids; g++) {
      for (let c = 0; c < cells; c++) {
        const met = found[g * cells + c]!;
        const o = met.outputs!;
        const told = met.shown;
        for (let a = 0, r = g * actions; a < actions; a++, r++) {
          const at = OUT * a;
          const heard = !quiet || told?.[actions + a] !== QUIET;
          if (heard) {
            out.reward[r]! += o[at + 2]!;
            logAlive[r]! += o[at + 3]!;
          }
          if (told && told[a]! >= 0) {
            out.ids[r * cells + c] = told[a]!;
            out.shown![r]!++;
            continue;
          }
          out.ids[r * cells + c] = o[at]!;
          out.likely[r]! *= o[at + 1]!;
          if (o[at + 1]! < leastSure[r]!) {
            leastSure[r] = o[at + 1]!;
            out.second.cell[r] = c;
            out.second.code[r] = o[at + 4]!;
            secondP[r] = o[at + 5]!;
          }
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      out.alive[r] = Math.exp(logAlive[r]!);
      out.second.likely[r] = (out.likely[r]! * secondP[r]!) / leastSure[r]!;
    }
    if (novel) out.novel = novel;
    return out;
  }

  /** Adds to `seen` every cell of grids [grids, L] with its grid's action, grid g's taken[g]. */
  markSeen(ids: Int32Array, taken: ArrayLike<number>, seen: CellActionSet): void {
    this.eachKey(ids, (g, _c, key) => seen.add(key, taken[g]!));
  }

  /**
   * Adds to `shown` every cell of grids [grids, L] with its grid's action taken[g] and the code it had
   * in grid g's next grid, next [grids, L]; with `eventful`, whether grid g's step paid or ended.
   */
  markOutcomes(
    ids: Int32Array,
    taken: ArrayLike<number>,
    next: Int32Array,
    shown: CellOutcomes,
    eventful?: ArrayLike<boolean>,
  ): void {
    const cells = this.neighbours.length / this.window;
    this.eachKey(ids, (g, c, key) => shown.add(key, taken[g]!, next[g * cells + c]!, eventful?.[g]));
  }

  /**
   * visit(grid, cell, key) for every cell of grids [grids, L]. A cell's key: the set of codes its
   * grid holds (with presence) and its neighbourhood; the neighbourhoods' part once per grid.
   */
  private eachKey(ids: Int32Array, visit: (grid: number, cell: number, key: Key, held: number) => void): void {
    const cells = this.neighbours.length / this.window;
    const around = neighbourhoodBuffer(this.codes, cells, this.window);
    const span = (this.codes + 1) ** this.window;
    for (let g = 0; g < ids.length / cells; g++) {
      neighbourhoodKeys(ids, g, this.neighbours, this.window, this.codes + 1, around);
      const held = this.presence ? heldId(this.holds, ids, g, cells) : 0;
      for (let c = 0; c < cells; c++) visit(g, c, cellKey(held, around, c, span), held);
    }
  }

  /** eachKey with `keys`' numbers (the same cells, one number each) for the keys. */
  private eachChunkedKey(
    ids: Int32Array,
    keys: ChunkedKeys,
    visit: (grid: number, cell: number, key: number, held: number) => void,
  ): void {
    const cells = this.neighbours.length / this.window;
    const out = new Float64Array(cells);
    for (let g = 0; g < ids.length / cells; g++) {
      const held = this.presence ? heldId(this.holds, ids, g, cells) : 0;
      keys.write(ids, g, held, out);
      for (let c = 0; c < cells; c++) visit(g, c, out[c]!, held);
    }
  }

  /**
   * Runs the MLP on the neighbourhoods at positions `missing` under every action, one batch (row
   * i * actions + a), into their entries `into`.
   */
  private compute(missing: number[], into: Met[], ids: Int32Array, cells: number, actions: number) {
    const d = this.dim;
    const width = this.window * (d + 1) + this.actionFeatures(0).length + (this.presence ? this.codes : 0);
    const n = missing.length * actions;
    const x = new Float32Array(n * width);
    // Grid g under action a: its cells share their input's tail.
    const tail = memo((ga: number) => {
      const action = this.actionFeatures(ga % actions);
      return this.presence ? withHeldFlags(action, ids, Math.floor(ga / actions), cells, this.codes) : action;
    });
    const own = new Int32Array(n);
    const around = this.window * (d + 1);
    missing.forEach((at, i) => {
      const [g, c] = [Math.floor(at / cells), at % cells];
      const first = i * actions;
      writeCellInput(x, first, ids, g, c, this.neighbours, this.window, this.codebook, d, tail(g * actions));
      own[first] = ids[at]!;
      // The other actions' rows: the same neighbourhood, their own tail.
      for (let a = 1; a < actions; a++) {
        x.copyWithin((first + a) * width, first * width, first * width + around);
        x.set(tail(g * actions + a), (first + a) * width + around);
        own[first + a] = ids[at]!;
      }
    });
    const [logits, reward, logNotEnd] = tidyReadAll(() => {
      const out = cellOutputs(this.dynamics, this.events, tf.tensor2d(x, [n, width]));
      const cell = cellEvents(out.logits, out.events, tf.oneHot(tf.tensor1d(own, "int32"), this.codes));
      // log(1 - sigmoid(t)) = -softplus(t)
      return [out.logits, cell.reward, tf.neg(tf.softplus(cell.endLogit))];
    }) as [Float32Array, Float32Array, Float32Array];
    const size = this.codes;
    // Per row: the most likely code, the runner-up (the lowest index of the largest of the others)
    // and the softmax's sum relative to the best, read in place (a view per row costs more than the sums).
    missing.forEach((_, i) => {
      const outputs: Outputs = new Float64Array(OUT * actions);
      for (let a = 0; a < actions; a++) {
        const k = i * actions + a;
        const at = k * size;
        let best = 0;
        for (let j = 1; j < size; j++) if (logits[at + j]! > logits[at + best]!) best = j;
        let second = best === 0 ? 1 : 0;
        for (let j = 0; j < size; j++) if (j !== best && logits[at + j]! > logits[at + second]!) second = j;
        const top = logits[at + best]!;
        let total = 0;
        for (let j = 0; j < size; j++) total += Math.exp(logits[at + j]! - top);
        const o = OUT * a;
        outputs[o] = best;
        outputs[o + 1] = 1 / total;
        outputs[o + 2] = reward[k]!;
        outputs[o + 3] = logNotEnd[k]!;
        outputs[o + 4] = second;
        outputs[o + 5] = Math.exp(logits[at + second]! - top) / total;
      }
      into[i]!.outputs = outputs;
    });
  }
}

/** Whether neighbourhoods of K cells over |C| codes need text keys: base^K past 2^53 (base |C| + 1). */
function keysAsText(codes: number, window: number): boolean {
  return (codes + 1) ** window > Number.MAX_SAFE_INTEGER;
}

/** Room for L neighbourhood keys of K cells: numbers while base^K is exact, else text. */
function neighbourhoodBuffer(codes: number, cells: number, window: number): Float64Array | string[] {
  return keysAsText(codes, window) ? new Array<string>(cells) : new Float64Array(cells);
}

/**
 * Grid g's cells' neighbourhoods (K = `window` cells each) as keys into `out` [L]: the neighbours'
 * codes (-1 outside the grid) in base `base`, numbers into a Float64Array, else text.
 */
function neighbourhoodKeys(
  ids: Int32Array,
  g: number,
  neighbours: Int32Array,
  window: number,
  base: number,
  out: Float64Array | string[],
): void {
  const cells = neighbours.length / window;
  for (let c = 0; c < cells; c++) {
    if (!(out instanceof Float64Array)) {
      out[c] = neighbourhoodText(ids, g, c, neighbours, window);
      continue;
    }
    let number = 0;
    for (let k = 0; k < window; k++) {
      const n = neighbours[c * window + k]!;
      number = number * base + (n < 0 ? -1 : ids[g * cells + n]!) + 1;
    }
    out[c] = number;
  }
}

/**
 * Cell c of grid g's neighbourhood as text: per neighbour one character, its code + 1 (0 outside
 * the grid; from 2^16 - 1 on, a mark and then its high and low 16 bits). Short, and made in one
 * call, where decimal codes after commas took several times as long: a Breakout search makes some
 * 20000 of them and hashes each in two sets.
 */
function neighbourhoodText(ids: Int32Array, g: number, c: number, neighbours: Int32Array, window: number): string {
  const cells = neighbours.length / window;
  const chars: number[] = [];
  for (let k = 0; k < window; k++) {
    const n = neighbours[c * window + k]!;
    const code = n < 0 ? 0 : ids[g * cells + n]! + 1;
    if (code < 0xffff) chars.push(code);
    else chars.push(0xffff, code >>> 16, code & 0xffff);
  }
  return String.fromCharCode(...chars);
}

/**
 * Cell c's key: its context (a small number) and its neighbourhood (neighbourhoodKeys'), one
 * number context * span + neighbourhood (span = base^K) while that is exact, else text.
 */
function cellKey(context: number, around: Float64Array | string[], c: number, span: number): Key {
  return around instanceof Float64Array && (context + 1) * span <= Number.MAX_SAFE_INTEGER
    ? context * span + around[c]!
    : `${context}:${around[c]}`;
}

/** cellKey's text for one cell (where base^K is past 2^53): its context, then its neighbours' codes. */
function textKey(
  context: number,
  ids: Int32Array,
  g: number,
  c: number,
  neighbours: Int32Array,
  window: number,
): string {
  return `${context}:${neighbourhoodText(ids, g, c, neighbours, window)}`;
}

/**
 * Keys as numbers where base^K is past 2^53: the context, then the K codes a chunk at a time, each
 * (number so far, chunk) numbered as met, so that a key takes a few lookups of numbers instead of
 * building and hashing text. The numbers mean something only to this object (one per stepper).
 * A chunk is a row of the square neighbourhood where a row fits: neighbouring cells share rows, so
 * a grid's rows are read once each (a Breakout grid's 100 cells have 140 rows of 5, not 500).
 */
class ChunkedKeys {
  /** Codes per chunk: base^size <= 2^26, so (number so far) x base^size stays exact. */
  private readonly size: number;
  private readonly numbered = new KeyIds();
  /** Each cell's chunks [L * chunks] as indices of distinct chunks (their neighbour cells). */
  private readonly parts: Int32Array;
  /** The distinct chunks' neighbour cells [chunks met * size] (-1 outside the grid), each chunk's length. */
  private readonly strips: Int32Array;
  private readonly lengths: Int32Array;
  /** base^length of each distinct chunk: what the number so far is multiplied by before it. */
  private readonly scales: Float64Array;
  /** A grid's value of each distinct chunk (its codes + 1 in base `base`, 0 outside). */
  private readonly values: Float64Array;

  constructor(
    private readonly base: number,
    neighbours: Int32Array,
    window: number,
  ) {
    const fits = Math.max(1, Math.floor(26 / Math.log2(base)));
    const side = Math.round(Math.sqrt(window));
    this.size = side * side === window && side <= fits ? side : fits;
    const chunks = Math.ceil(window / this.size);
    const cells = neighbours.length / window;
    const seen = new Map<string, number>();
    const strips: number[] = [];
    const lengths: number[] = [];
    this.parts = new Int32Array(cells * chunks);
    for (let c = 0; c < cells; c++)
      for (let j = 0; j < chunks; j++) {
        const cellsOf = neighbours.subarray(
          c * window + j * this.size,
          c * window + Math.min((j + 1) * this.size, window),
        );
        const text = cellsOf.join(",");
        let id = seen.get(text);
        if (id === undefined) {
          id = lengths.length;
          seen.set(text, id);
          lengths.push(cellsOf.length);
          strips.push(...cellsOf, ...new Array<number>(this.size - cellsOf.length).fill(-1));
        }
        this.parts[c * chunks + j] = id;
      }
    this.strips = Int32Array.from(strips);
    this.lengths = Int32Array.from(lengths);
    this.scales = Float64Array.from(lengths, (n) => base ** n);
    this.values = new Float64Array(lengths.length);
  }

  /** Grid g's cells' keys, with context `context`, into `out` [L] (`ids` holds grids of L cells). */
  write(ids: Int32Array, g: number, context: number, out: Float64Array): void {
    const { base, size, numbered, parts, strips, lengths, scales, values } = this;
    const cells = out.length;
    for (let s = 0; s < lengths.length; s++) {
      let value = 0;
      for (let k = 0; k < lengths[s]!; k++) {
        const n = strips[s * size + k]!;
        value = value * base + (n < 0 ? 0 : ids[g * cells + n]! + 1);
      }
      values[s] = value;
    }
    const chunks = parts.length / cells;
    for (let c = 0; c < cells; c++) {
      let key = context;
      for (let j = 0; j < chunks; j++) {
        // The number so far, renumbered small, before the next chunk multiplies it.
        if (j > 0) key = numbered.idOf(key);
        const s = parts[c * chunks + j]!;
        key = key * scales[s]! + values[s]!;
      }
      out[c] = key;
    }
  }
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
function memo<T>(f: (k: number) => T): (k: number) => T {
  const seen = new Map<number, T>();
  return (r) => {
    if (!seen.has(r)) seen.set(r, f(r));
    return seen.get(r)!;
  };
}

/** Grid g's set of held codes as a small number, numbered as met in `holds`. */
function heldId(holds: Map<number | string, number>, ids: Int32Array, g: number, cells: number): number {
  const grid = ids.subarray(g * cells, (g + 1) * cells);
  // A bitmask while every code is under 30, else the sorted codes as text.
  let set: number | string = grid.reduce((m, c) => (c < 30 && m >= 0 ? m | (1 << c) : -1), 0);
  if (set < 0) set = [...new Set(grid)].sort((p, q) => p - q).join(",");
  let id = holds.get(set);
  if (id === undefined) {
    id = holds.size;
    holds.set(set, id);
  }
  return id;
}

/** Row i of x: cell c of grid g's MLP input (localInputs' layout: K x (code, inside flag), then the action's features and any presence flags: `context`). */
function writeCellInput(
  x: Float32Array,
  i: number,
  ids: Int32Array,
  g: number,
  c: number,
  neighbours: Int32Array,
  window: number,
  codebook: Float32Array,
  d: number,
  context: ArrayLike<number>,
): void {
  const cells = neighbours.length / window;
  const width = window * (d + 1) + context.length;
  for (let k = 0; k < window; k++) {
    const n = neighbours[c * window + k]!;
    if (n < 0) continue; // outside: zeros, flag 0
    const code = ids[g * cells + n]!;
    for (let j = 0; j < d; j++) x[i * width + k * (d + 1) + j] = codebook[code * d + j]!;
    x[i * width + k * (d + 1) + d] = 1;
  }
  x.set(context, i * width + window * (d + 1));
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
  window: number,
  toCodes: (weights: tf.Tensor3D) => tf.Tensor,
  presence = false,
): { next: tf.Tensor3D; reward: tf.Tensor1D; terminated: tf.Tensor1D } {
  const cells = neighbours.length / window;
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
  const around = neighbourhoodBuffer(size, cells, window);
  const span = (size + 1) ** window;
  // Where base^K is past 2^53, numbers of this call's own instead of text.
  const chunked = keysAsText(size, window) ? new ChunkedKeys(size + 1, neighbours, window) : undefined;
  const numbers = new Float64Array(cells);
  const distinct = new KeyIds();
  const shownAt: number[] = []; // distinct row -> its first row * cells + cell
  const back = new Int32Array(n * cells);
  for (let r = 0; r < n; r++) {
    if (chunked) chunked.write(ids, r, contextOf[r]!, numbers);
    else neighbourhoodKeys(ids, r, neighbours, window, size + 1, around);
    for (let c = 0; c < cells; c++) {
      const key = chunked ? numbers[c]! : cellKey(contextOf[r]!, around, c, span);
      const u = distinct.idOf(key);
      if (u === shownAt.length) shownAt.push(r * cells + c);
      back[r * cells + c] = u;
    }
  }
  const tail = memo((r: number) => {
    const action = actionRows.subarray(r * a, (r + 1) * a);
    return presence ? withHeldFlags(action, ids, r, cells, size) : action;
  });
  const width = window * (dim + 1) + a + (presence ? size : 0);
  const x = new Float32Array(shownAt.length * width);
  shownAt.forEach((at, i) => {
    const [r, c] = [Math.floor(at / cells), at % cells];
    writeCellInput(x, i, ids, r, c, neighbours, window, codebook, dim, tail(r));
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
  for (let i = 0; i < back.length; i++) {
    const u = back[i]!;
    // An element loop: a subarray view per cell costs more than its 16 copies.
    for (let j = 0; j < size; j++) allProbs[i * size + j] = probs[u * size + j]!;
    allReward[i] = reward[u]!;
    allEnd[i] = endLogit[u]!;
  }
  return tf.tidy(() => ({
    next: toCodes(tf.tensor3d(allProbs, [n, cells, size])) as tf.Tensor3D,
    reward: tf.sum(tf.tensor2d(allReward, [n, cells]), 1) as tf.Tensor1D,
    terminated: anyCellLogit(tf.tensor2d(allEnd, [n, cells])),
  }));
}
