// Heads that predict each cell of a grid from its 3x3 neighbourhood (5x5 and wider with
// encoder.radius), for codes with one latent per cell (CellTokenizer), with one set of weights
// shared by every cell. On a grid one step changes only the cells next to the agent, and what
// happens there depends on what lies around it, so a local rule learnt in one layout holds in every
// other, where an MLP over the whole code has to learn each layout anew. Per cell c, with x_c = (its
// K neighbours' codes (K = 9 at radius 1), each with a flag that is 0 outside the grid; the action;
// with encoder.presence, one flag per code the grid holds anywhere):
//   logits_c = dynamics(x_c)                                   the next code of cell c
//   (g_c, v_c, t_c) = events(sg(x_c))                          a second, small MLP
//   q_c = sg(1 - softmax(logits_c)[c's own code])              the chance that cell c changes
//   r_hat = sum_c sigmoid(g_c + log q_c) v_c                   reward where a changing cell fires
//   d_hat = 1 - prod_c (1 - sigmoid(t_c + log q_c))            "some cell ends the episode" (noisy-OR)
// d_hat is returned as its logit, log(exp(S) - 1) with S = sum_c softplus(t_c + log q_c).
// With encoder.eventHeads "classified" the gate learns as a classifier and v as a regression:
//   p_hat = 1 - prod_c (1 - sigmoid(g_c + log q_c))            "some cell pays", BCE against r != 0
//   r_hat = sum_c sg(sigmoid(g_c + log q_c)) v_c               squared error trains v only
// and both noisy-ORs keep their gradient however small S is (anyCellLogit). The product's gradient
// vanishes once the gate is shut: thousands of unpaid updates before the first reward push g to
// about -8, and the step into the goal then moves it by sigmoid'(g) v (DoorKey-8x8 screen: one
// arrival paying 0.30 in the buffer, 1800 updates later its predicted reward 0.000; a model trained
// afresh on the same buffer predicted 0.10-0.31; docs/efficiency-investigations.md).
// Why each piece (FourRooms-11 random walks; docs/efficiency-investigations.md):
// - q_c: an event happens where the grid changes. The loss says only that some cell ended the
//   episode; scaled by q_c that falls on the two cells a step changes, not on all 121, and the
//   reward lands on the step into the goal instead of being smeared over every state (a search in a
//   random-walk model found the goal on 0.90 of 20 new layouts after 2000 updates, 0.05 without).
// - Two MLPs, not one with more outputs: the events' signal through a shared trunk held the dynamics
//   back (whole-grid accuracy 0.57 against 0.99 apart after 2000 updates).
// - The gate sigmoid(g): a plain sum of 121 cells' rewards moved by about 121 Adam steps per update
//   and diverged.
// - sg(x_c): in a rollout the codes are the dynamics' ST samples, and the events' loss reaching the
//   dynamics through them undid the dynamics (probe, 2-step rollouts: whole-grid accuracy 0.98 at
//   update 3000, 0.42 at 4000; stopped, 0.99-1.00 from update 2000 to 5000).
import * as tf from "@tensorflow/tfjs";
import { stopGradient } from "../estimators/categorical.ts";
import { Mlp } from "./mlp.ts";

/** Cells in a neighbourhood of `radius` (a square of side 2 radius + 1): 9 at radius 1. */
export function neighbourhoodSize(radius = 1): number {
  return (2 * radius + 1) ** 2;
}

/** Each cell's neighbours within `radius`, row by row: [H W * K] cell indices (K = neighbourhoodSize), -1 outside the grid. */
export function neighbourIndices(height: number, width: number, radius = 1): Int32Array {
  const side = 2 * radius + 1;
  const k = side * side;
  const out = new Int32Array(height * width * k);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let j = 0; j < k; j++) {
        const [yy, xx] = [y + Math.floor(j / side) - radius, x + (j % side) - radius];
        const inside = yy >= 0 && yy < height && xx >= 0 && xx < width;
        out[(y * width + x) * k + j] = inside ? yy * width + xx : -1;
      }
  return out;
}

/**
 * The neighbourhoods as a 0/1 matrix [K H W, H W]: row K c + j picks cell c's j-th neighbour (a zero
 * row outside the grid). Selecting by a matmul: a gather of the same rows takes ~6x as long on WASM.
 */
export function neighbourMatrix(height: number, width: number, radius = 1): tf.Tensor2D {
  const cells = height * width;
  const k = neighbourhoodSize(radius);
  const m = new Float32Array(k * cells * cells);
  neighbourIndices(height, width, radius).forEach((c, row) => {
    if (c >= 0) m[row * cells + c] = 1;
  });
  return tf.tensor2d(m, [k * cells, cells]);
}

/** Input width per cell: K neighbours x (d + 1) values, the action's A features, then `presence` flags (0 or |C|). */
export function localInputSize(dim: number, actionSize: number, presence = 0, radius = 1): number {
  return neighbourhoodSize(radius) * (dim + 1) + actionSize + presence;
}

/**
 * Codes [N, L, d] and action features [N, A] -> every cell's input [N L, K (d + 1) + A (+ |C|)]
 * (`select`: neighbourMatrix, K rows per cell); with `present` [N, |C|] (gridPresence), each grid's
 * flags after the action.
 */
export function localInputs(
  codes: tf.Tensor,
  action: tf.Tensor2D,
  select: tf.Tensor2D,
  present?: tf.Tensor2D,
): tf.Tensor2D {
  const [n, cells, dim] = codes.shape as [number, number, number];
  const k = select.shape[0] / cells;
  const flagged = tf.concat([codes, tf.ones([n, cells, 1])], 2); // [N, L, d + 1]
  const byCell = tf.reshape(tf.transpose(flagged, [1, 0, 2]), [cells, n * (dim + 1)]);
  const around = tf.reshape(tf.matMul(select, byCell), [cells, k, n, dim + 1]); // zero outside the grid, flag included
  const perCell = tf.reshape(tf.transpose(around, [2, 0, 1, 3]), [n, cells, k * (dim + 1)]);
  const context = present ? tf.concat([action, present], 1) : action;
  const c = context.shape[1];
  const acting = tf.tile(tf.reshape(context, [n, 1, c]), [1, cells, 1]);
  return tf.reshape(tf.concat([perCell, acting], 2), [n * cells, k * (dim + 1) + c]) as tf.Tensor2D;
}

/** Each cell's own code as one-hot rows [N, L, |C|] -> which codes each grid holds [N, |C|] (0/1, no gradient). */
export function gridPresence(own: tf.Tensor3D): tf.Tensor2D {
  return tf.max(own, 1) as tf.Tensor2D;
}

/**
 * Per-cell termination logits [N, L] -> the logit [N] that some cell terminates (noisy-OR).
 * `keepGradient`: below S = 1e-3 the logit is log S + S/2 (the series of log(1 - exp(-S)) + S),
 * which stays finite and passes a gradient at any S. Without it S is floored at 1e-7, and once
 * thousands of updates without an event have pushed every cell's logit below about -16 the floor
 * takes the whole gradient: the first event moves nothing (a DoorKey-8x8 screen, 1300 updates after
 * its first arrival: termination cross-entropy 12, its gradient on every events weight exactly 0).
 */
export function anyCellLogit(cellLogits: tf.Tensor2D, keepGradient = false): tf.Tensor1D {
  // log(1 - d_hat) = -S, so logit(d_hat) = log(1 - exp(-S)) + S.
  const total = tf.sum(tf.softplus(cellLogits), 1);
  if (!keepGradient) {
    const s = tf.maximum(total, 1e-7);
    return tf.add(tf.log(tf.neg(tf.expm1(tf.neg(s)))), s) as tf.Tensor1D;
  }
  // Each branch on inputs where it is finite, so that the unused one's gradient is 0, not NaN; the
  // mask by tf.step, whose gradient is 0 (tf.less has none).
  const [small, large] = [tf.minimum(total, SERIES_BELOW), tf.maximum(total, SERIES_BELOW)];
  const series = tf.add(tf.log(tf.add(small, 1e-30)), tf.div(small, 2));
  const exact = tf.add(tf.log(tf.neg(tf.expm1(tf.neg(large)))), large);
  const isSmall = tf.step(tf.sub(SERIES_BELOW, total));
  return tf.add(tf.mul(isSmall, series), tf.mul(tf.sub(1, isSmall), exact)) as tf.Tensor1D;
}

/** Where anyCellLogit's series takes over (its next term, S^2 / 24, is then below 5e-8). */
const SERIES_BELOW = 1e-3;

/**
 * Per cell rows [M, in] -> next-code logits [M, |C|] and events [M, 3] (reward gate, reward value,
 * termination). An events MLP narrower than the rows reads their first columns only: the rows
 * without their presence flags, which end them (encoder.presenceInEvents false).
 */
export function cellOutputs(dynamics: Mlp, events: Mlp, x: tf.Tensor2D): { logits: tf.Tensor2D; events: tf.Tensor2D } {
  const read = events.sizes[0]!;
  const seen = read < x.shape[1] ? tf.slice(x, [0, 0], [-1, read]) : x;
  return { logits: dynamics.apply(x), events: events.apply(stopGradient(seen) as tf.Tensor2D) };
}

/**
 * (codes [N, L, d], action features [N, A]) -> next-code logits [N, L, |C|], reward [N], termination
 * logit [N]. `codebook` [|C|, d]: each code's vector (to find each cell's own code).
 */
export function localHeads(
  dynamics: Mlp,
  events: Mlp,
  codes: tf.Tensor,
  action: tf.Tensor2D,
  select: tf.Tensor2D,
  codebook: tf.Tensor2D,
  presence = false,
  classified = false,
): { logits: tf.Tensor3D; reward: tf.Tensor1D; terminated: tf.Tensor1D; rewarded?: tf.Tensor1D } {
  const [n, cells, dim] = codes.shape as [number, number, number];
  const size = codebook.shape[0];
  // Each cell's own code: the nearest, for expected codes.
  const flat = tf.reshape(stopGradient(codes), [n * cells, dim]) as tf.Tensor2D;
  const nearness = tf.sub(tf.mul(2, tf.matMul(flat, codebook, false, true)), tf.sum(tf.square(codebook), 1));
  const own = tf.oneHot(tf.argMax(nearness, 1) as tf.Tensor1D, size);
  const present = presence ? gridPresence(tf.reshape(own, [n, cells, size]) as tf.Tensor3D) : undefined;
  const out = cellOutputs(dynamics, events, localInputs(codes, action, select, present));
  const cell = cellEvents(out.logits, out.events, own, classified);
  return {
    logits: tf.reshape(out.logits, [n, cells, size]) as tf.Tensor3D,
    reward: tf.sum(tf.reshape(cell.reward, [n, cells]), 1) as tf.Tensor1D,
    terminated: anyCellLogit(tf.reshape(cell.endLogit, [n, cells]) as tf.Tensor2D, classified),
    ...(classified && { rewarded: anyCellLogit(tf.reshape(cell.gateLogit, [n, cells]) as tf.Tensor2D, true) }),
  };
}

/**
 * Per cell rows: next-code logits [M, |C|], events [M, 3] and the cell's own code (one-hot [M, |C|])
 * -> its reward sigmoid(g + log q) v [M], its gate's logit g + log q [M] and its termination logit
 * t + log q [M], q the chance that it changes (stopped). `stopGate`: the reward's gradient reaches v only.
 */
export function cellEvents(
  logits: tf.Tensor2D,
  events: tf.Tensor2D,
  own: tf.Tensor,
  stopGate = false,
): { reward: tf.Tensor1D; gateLogit: tf.Tensor1D; endLogit: tf.Tensor1D } {
  const stays = tf.sum(tf.mul(stopGradient(tf.softmax(logits)), tf.cast(own, "float32")), 1);
  const logChange = tf.log(tf.maximum(tf.sub(1, stays), CHANGE_FLOOR));
  const column = (j: number) => tf.reshape(tf.slice(events, [0, j], [-1, 1]), [-1]);
  const gateLogit = tf.add(column(0), logChange) as tf.Tensor1D;
  const gate = tf.sigmoid(gateLogit);
  return {
    reward: tf.mul(stopGate ? stopGradient(gate) : gate, column(1)) as tf.Tensor1D,
    gateLogit,
    endLogit: tf.add(column(2), logChange) as tf.Tensor1D,
  };
}

/** The least chance of change a cell's events keep (log 1e-6 = -13.8 on their logits). */
export const CHANGE_FLOOR = 1e-6;

/**
 * The events MLP [in, hidden..., 3]. Its outputs sum over cells: at the usual initialisation 121
 * cells' rewards add up to several units and their terminations to certainty. So each cell's reward
 * gate and termination logit start at -log(cells) - 3 (the grid's about 5%) and its reward value at
 * 0, the last layer's weights at 0.
 */
export function eventsHeads(input: number, hidden: readonly number[], cells: number, seed: number): Mlp {
  const events = new Mlp([input, ...hidden, 3], seed, "relu", "events", "he");
  const last = events.weights.length - 1;
  const quiet = -Math.log(cells) - 3;
  tf.tidy(() => {
    events.weights[last]!.assign(tf.zerosLike(events.weights[last]!));
    events.biases[last]!.assign(tf.tensor1d([quiet, 0, quiet]));
  });
  return events;
}
