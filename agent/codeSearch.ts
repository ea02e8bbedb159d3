// Planning by search over the model's codes (Discrete actions): from the current code, try every
// action breadth first under `mode` propagation (z' = c^(argmax l), the most likely next code), and
// merge a code met before into its node, to `depth` steps or `maxNodes` expanded codes. Then value
// iteration on that graph, `depth` sweeps:
//   Q(s, a) = r_hat(s, a) + gamma (1 - d_hat(s, a)) p(s' | s, a) V(s'),   V(s) = max_a Q(s, a) where s was expanded,
// starting from the value net's V everywhere (so the frontier keeps it: a depth-step lookahead).
// p(s' | s, a) = prod_l max_i softmax(l_l)_i is the model's probability of the code it follows: a
// path through codes it is unsure of counts for less (what lies beyond an unlikely step is unknown,
// valued 0), so the max over many edges does not chase one whose next code is a guess.
// With `branch`, a step also leads to its second guess: the grid with the least sure cell's
// runner-up code, weighted by its own probability p'' (Q = r_hat + gamma (1 - d_hat) (p' V(s') +
// p'' V(s''))), so a rare step the model half knows does not close the graph on a wrong guess.
// Discrete codes are what make this affordable: a revisited code is the same node, so the graph grows
// with the states reachable in the model (on a grid: the agent's poses in this layout), not with
// n^depth action sequences, and a goal 30 steps away is in reach where sampled sequences of 3 are not.
// With `untried`, r_hat(s, a) + bonus where some cell of (s, a) has a (neighbourhood, action) the agent
// never took in the env: what the model predicts there is a guess, and trying it is how to learn it.
// With `shown`, a cell whose (neighbourhood, action) the env always took to one next code takes that
// code with probability 1 instead of the model's guess: a rare step the env has shown (DoorKey-8x8's
// unlock) is known whichever way the model's argmax there fell at its last update. With `quiet` too,
// a cell whose (neighbourhood, action) was only ever part of steps that neither paid nor ended adds
// no reward and no ending: a goal the model calls where the env has shown none is not chased.
import * as tf from "@tensorflow/tfjs";
import type { CellActionSet, CellOutcomes } from "../worldmodel/nn/localStep.ts";
import { expander, rowsOf, type IndexStepper, type Level, type SearchModel } from "./codeExpansion.ts";

export type { IndexStepper, SearchModel } from "./codeExpansion.ts";

export interface SearchOptions {
  /** Steps of the breadth-first expansion, and sweeps of value iteration. */
  depth: number;
  /** Expansion stops at the first level that would take the expanded codes past this many. */
  maxNodes: number;
  gamma: number;
  /**
   * Count a step's reward only where the model says the episode ends (d_hat > 0.5), for tasks that
   * pay only then: value iteration around a cycle collects a small reward predicted on steps that go
   * on up to 1 / (1 - gamma) times.
   */
  rewardOnEnding?: boolean;
  /** V(z) [N] at every node (the frontier's bootstrap); none means 0. */
  value?: (codes: tf.Tensor) => tf.Tensor1D;
  /**
   * Optimism where the model has only guessed: a step with a cell whose (neighbourhood, action) is
   * not in `seen` (the agent's real steps: TakenSteps) pays `bonus` more.
   */
  untried?: { seen: CellActionSet; bonus: number };
  /** The next code each (neighbourhood, action) the agent took always led to (TakenSteps.shown): it overrides the model's. */
  shown?: CellOutcomes;
  /** With `shown`: a cell whose (neighbourhood, action) was only ever part of steps that neither paid nor ended pays and ends nothing. */
  quiet?: boolean;
  /**
   * An index stepper to step with (else the model's new one): one kept across searches reuses what it
   * computed, for as long as the model's weights stay the same.
   */
  stepper?: IndexStepper;
  /**
   * What searches under the same weights share (an evaluation's, beside its stepper): each code's
   * value and its rows under every action, computed once for all of them. Not with `untried`; with
   * `shown`, the same one in all of them.
   */
  memo?: SearchMemo;
  /**
   * Follow the model's second guess too (index steppers only): where the grid with the least sure
   * cell's second most likely code has at least this probability p'', it is a second outcome of the
   * step: Q(s, a) = r_hat + gamma (1 - d_hat) (p' V(s') + p'' V(s'')). A step the model is unsure of
   * (DoorKey-8x8: onto an open door, p 0.67 that the agent vanishes, 0.29 that it stands there)
   * then leads on either way, instead of only where the coin fell when the weights were last
   * updated.
   */
  branch?: number;
}

/**
 * An evaluation's searches under fixed weights: consecutive searches of an episode expand mostly the
 * same codes (the poses of one layout), so each code's expansion and value are kept by its key. The
 * numbers are those a search computes afresh (the value net gives each row the same bits in any
 * batch on this backend; bench search checks the Q).
 */
export class SearchMemo {
  /** Code key -> its rows under every action. */
  readonly rows = new Map<string, Level>();
  /** Code key -> V (codes met other than as a search's root, whose code comes from the encoder). */
  readonly values = new Map<string, number>();

  /** Codes held. */
  get size(): number {
    return this.rows.size + this.values.size;
  }
}

export interface SearchResult {
  /** Q(root, a) for every action a. */
  q: Float64Array;
  /** Distinct codes met (root included). */
  nodes: number;
  /** Levels expanded. */
  levels: number;
}

/** Fresh codes valued per batch once an expansion on code indices ends. */
const VALUE_BATCH = 2048;

/**
 * A code's key: row `row` of code indices [rows, latents] as one character per index (fast to build
 * and hash), as text past 16 bits. fromCharCode.apply reads the typed array directly (a spread
 * iterates it, 4x slower).
 */
export function codeKey(ids: Int32Array, row: number, latents: number): string {
  const part = ids.subarray(row * latents, (row + 1) * latents);
  for (let i = 0; i < latents; i++) if (part[i]! >= 0xffff) return part.join(",");
  return String.fromCharCode.apply(null, part as unknown as number[]);
}

/** Searches from one start code z0 [1, L, d] over `actions` Discrete actions. */
export function searchCodes(model: SearchModel, z0: tf.Tensor, actions: number, opts: SearchOptions): SearchResult {
  if (z0.shape[0] !== 1) throw new RangeError(`searchCodes: one start code expected, got ${z0.shape[0]}`);
  const { depth, maxNodes, gamma } = opts;
  const nodeOf = new Map<string, number>();
  const keys: string[] = []; // node -> its key
  const values: number[] = [];
  // Edges, one per (expanded node, action): parent, child, reward, continuation probability, the
  // next code's probability.
  const parent: number[] = [];
  const child: number[] = [];
  const reward: number[] = [];
  const alive: number[] = [];
  const likely: number[] = [];
  // Each edge's second outcome (opts.branch): its node (-1: none) and probability.
  const child2: number[] = [];
  const likely2: number[] = [];
  const valuesAt = (codes: tf.Tensor): ArrayLike<number> => {
    if (!opts.value) return new Float32Array(codes.shape[0]!);
    const v = tf.tidy(() => opts.value!(codes));
    const data = v.dataSync();
    v.dispose();
    return data;
  };

  const rootIds = tf.tidy(() => model.indices(z0));
  const latents = rootIds.shape[1]!;
  let frontierIds = Int32Array.from(rootIds.dataSync());
  rootIds.dispose();
  keys.push(codeKey(frontierIds, 0, latents));
  nodeOf.set(keys[0]!, 0);
  values.push(valuesAt(z0)[0]!);
  const { memo } = opts;
  if (memo && opts.untried) throw new Error("code search: a memo is for searches without the untried bonus");
  if (opts.quiet && !opts.shown) throw new Error("code search: quiet cells are known from the steps shown (shown)");
  const expand = expander(model, z0, opts.untried?.seen, opts.stepper, opts.shown, opts.quiet);
  if (memo && !expand.codesOf) throw new Error("code search: a memo needs a model stepped on code indices");
  const { branch } = opts;
  if (branch !== undefined && !expand.codesOf)
    throw new Error("code search: second guesses (branch) need a model stepped on code indices");
  // One level's rows through the memo: only the frontier codes it does not hold are stepped.
  const memoStep = (frontierNodes: number[], frontier: Int32Array): Level => {
    const held = frontierNodes.map((n) => memo!.rows.get(keys[n]!));
    const missing = held.flatMap((h, i) => (h ? [] : [i]));
    if (missing.length > 0) {
      const out = expand.step(rowsOf(frontier, missing, latents), missing.length, actions);
      missing.forEach((i, j) => {
        const [a, b] = [j * actions, (j + 1) * actions];
        const part = (x: ArrayLike<number>) => Float64Array.from({ length: actions }, (_, t) => x[a + t]!);
        held[i] = {
          ids: out.ids.slice(a * latents, b * latents),
          reward: part(out.reward),
          alive: part(out.alive),
          likely: part(out.likely),
          ...(branch !== undefined &&
            out.second && {
              second: { cell: part(out.second.cell), code: part(out.second.code), likely: part(out.second.likely) },
            }),
        };
        memo!.rows.set(keys[frontierNodes[i]!]!, held[i]!);
      });
    }
    const rows = frontierNodes.length * actions;
    const ids = new Int32Array(rows * latents);
    const [reward, alive, likely] = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
    const second =
      branch === undefined
        ? undefined
        : { cell: new Float64Array(rows), code: new Float64Array(rows), likely: new Float64Array(rows) };
    held.forEach((h, i) => {
      const at = i * actions;
      ids.set(h!.ids, at * latents);
      reward.set(h!.reward, at);
      alive.set(h!.alive, at);
      likely.set(h!.likely, at);
      if (second && h!.second) {
        second.cell.set(h!.second.cell, at);
        second.code.set(h!.second.code, at);
        second.likely.set(h!.second.likely, at);
      }
    });
    return { ids, reward, alive, likely, ...(second && { second }) };
  };
  // The fresh rows' values through the memo: only the codes it does not hold go through the value net.
  const memoValues = (freshKeys: string[], freshRows: number[], ids: Int32Array): number[] => {
    const need = freshKeys.flatMap((k, j) => (memo!.values.has(k) ? [] : [j]));
    if (need.length > 0) {
      const rows = need.map((j) => freshRows[j]!);
      const got = expand.codesOf!(rowsOf(ids, rows, latents), need.length, valuesAt);
      need.forEach((j, t) => memo!.values.set(freshKeys[j]!, got[t]!));
    }
    return freshKeys.map((k) => memo!.values.get(k)!);
  };
  // Fresh codes of index steppers without a memo, valued once the expansion ends: their rows, nodes.
  const unvalued: Int32Array[] = [];
  const unvaluedNodes: number[] = [];
  let frontierNodes = [0];
  let expanded = 0;
  let levels = 0;
  try {
    while (levels < depth && frontierNodes.length > 0 && expanded + frontierNodes.length <= maxNodes) {
      const f = frontierNodes.length;
      const rows = f * actions;
      // Row k: frontier node floor(k / n) under action k mod n.
      const step: Level = memo ? memoStep(frontierNodes, frontierIds) : expand.step(frontierIds, f, actions);
      // The rows' second outcomes (branch) as more rows after them: row rows + j is row source[j]'s.
      const { ids, source } =
        branch === undefined ? { ids: step.ids, source: [] } : withSecondGuesses(step, rows, latents, branch);
      const sourceOf = (k: number) => (k < rows ? k : source[k - rows]!);
      const firstEdge = parent.length;
      // Rows whose code is new, and their nodes.
      const freshRows: number[] = [];
      const freshNodes: number[] = [];
      for (let k = 0; k < rows + source.length; k++) {
        const key = codeKey(ids, k, latents);
        let node = nodeOf.get(key);
        if (node === undefined) {
          node = values.length;
          nodeOf.set(key, node);
          keys.push(key);
          values.push(0);
          freshRows.push(k);
          freshNodes.push(node);
        }
        if (k >= rows) {
          child2[firstEdge + sourceOf(k)] = node;
          likely2[firstEdge + sourceOf(k)] = step.second!.likely[sourceOf(k)]!;
          continue;
        }
        parent.push(frontierNodes[Math.floor(k / actions)]!);
        child.push(node);
        const paid = opts.rewardOnEnding && step.alive[k]! >= 0.5 ? 0 : step.reward[k]!;
        reward.push(paid + (opts.untried && step.novel?.[k] ? opts.untried.bonus : 0));
        alive.push(step.alive[k]!);
        likely.push(step.likely[k]!);
        child2.push(-1);
        likely2.push(0);
      }
      expanded += f;
      levels++;
      if (freshRows.length > 0 && !memo && expand.codesOf) {
        // Valued after the expansion, all levels in few batches: nothing before value iteration reads them.
        unvalued.push(rowsOf(ids, freshRows, latents));
        unvaluedNodes.push(...freshNodes);
      } else if (freshRows.length > 0) {
        const v = memo
          ? memoValues(
              freshNodes.map((n) => keys[n]!),
              freshRows,
              ids,
            )
          : expand.keep!(freshRows, (codes) => valuesAt(codes));
        freshNodes.forEach((node, j) => {
          values[node] = v[j]!;
        });
      }
      // The next frontier: the fresh codes that did not end the episode (nothing follows an ending).
      const keep = freshRows.flatMap((k, j) => (step.alive[sourceOf(k)]! >= 0.5 ? [j] : []));
      expand.frontier(keep);
      frontierIds = rowsOf(
        ids,
        keep.map((j) => freshRows[j]!),
        latents,
      );
      frontierNodes = keep.map((j) => freshNodes[j]!);
    }
    if (unvaluedNodes.length > 0) {
      const all = new Int32Array(unvaluedNodes.length * latents);
      let at = 0;
      for (const part of unvalued) {
        all.set(part, at);
        at += part.length;
      }
      for (let first = 0; first < unvaluedNodes.length; first += VALUE_BATCH) {
        const m = Math.min(VALUE_BATCH, unvaluedNodes.length - first);
        const v = expand.codesOf!(all.slice(first * latents, (first + m) * latents), m, valuesAt);
        for (let j = 0; j < m; j++) values[unvaluedNodes[first + j]!] = v[j]!;
      }
    }
  } finally {
    expand.dispose();
  }

  // Value iteration on the graph: `depth` Jacobi sweeps over the expanded nodes, or fewer once a
  // sweep changes no value (every later one would give the same).
  const v = Float64Array.from(values);
  const edges = parent.length;
  const backup = (e: number) =>
    reward[e]! +
    gamma * alive[e]! * (likely[e]! * v[child[e]!]! + (child2[e]! >= 0 ? likely2[e]! * v[child2[e]!]! : 0));
  const best = new Float64Array(v.length);
  for (let sweep = 0; sweep < depth; sweep++) {
    best.fill(-Infinity);
    for (let e = 0; e < edges; e++) {
      const p = parent[e]!;
      best[p] = Math.max(best[p]!, backup(e));
    }
    let changed = false;
    for (let s = 0; s < v.length; s++)
      if (best[s] !== -Infinity && best[s] !== v[s]) {
        v[s] = best[s]!;
        changed = true;
      }
    if (!changed) break;
  }
  // The root's edges come first, one per action.
  const q = new Float64Array(actions);
  for (let e = 0; e < Math.min(actions, edges); e++) q[e] = backup(e);
  if (edges === 0) q.fill(values[0]!);
  return { q, nodes: values.length, levels };
}

/**
 * A level's rows followed by their second guesses (SearchOptions.branch): for each row whose grid with
 * its least sure cell's second code has probability >= `branch`, a copy of its codes with that cell
 * changed; `source[j]` is the row that copy j came from.
 */
function withSecondGuesses(
  step: Level,
  rows: number,
  latents: number,
  branch: number,
): { ids: Int32Array; source: number[] } {
  if (!step.second) throw new Error("code search: the model gave no second guesses (branch)");
  const { cell, code, likely } = step.second;
  const source: number[] = [];
  for (let k = 0; k < rows; k++) if (likely[k]! >= branch) source.push(k);
  const ids = new Int32Array((rows + source.length) * latents);
  ids.set(step.ids.subarray(0, rows * latents));
  source.forEach((k, j) => {
    const at = (rows + j) * latents;
    ids.set(step.ids.subarray(k * latents, (k + 1) * latents), at);
    ids[at + cell[k]!] = code[k]!;
  });
  return { ids, source };
}
