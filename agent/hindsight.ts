// Hindsight goals for the value's TD rows (value.relabel; HER's "future" strategy, Andrychowicz et
// al. 2017): a replayed sequence o_0..o_n is redrawn with the goal on the cell where the agent
// stood at a later step of the same episode, and its rewards and endings are recomputed for that
// goal: reaching it pays what the env pays there (1 - 0.9 elapsed / maxSteps on the grids) and ends
// the sequence; reaching the real goal no longer does. Every episode then shows the value how to
// reach some cell, though few reach the goal it was given (FourRooms: the goal and the doors move
// every episode).
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import type { GoalRelabeler } from "../envs/grid/goalRelabel.ts";
import { concatBatches, type TdBatch } from "./value.ts";

/** Redraws at most this many future steps per row for one where the agent stands elsewhere than at o_0. */
const DRAWS = 4;

/**
 * `batch` sequences of `horizon` transitions from the buffer with hindsight goals (without
 * `source`: the observations are no longer the stored ones).
 */
export function relabeledSample(
  buffer: ReplayBuffer,
  relabeler: GoalRelabeler,
  batch: number,
  horizon: number,
  rng: Rng,
  eventFraction: number,
): SequenceBatch {
  const s = relabel(buffer, relabeler, buffer.sample(batch, horizon, rng, eventFraction), rng);
  delete s.source;
  return s;
}

/** Moves each row's goal, in place, to a later cell of its episode (`s` sampled from `buffer`); a row whose episode never left o_0's cell keeps its own. */
export function relabel(buffer: ReplayBuffer, relabeler: GoalRelabeler, s: SequenceBatch, rng: Rng): SequenceBatch {
  const slots = s.source!.slots;
  const stored = buffer.observations();
  const O = relabeler.obsSize;
  const H = s.horizon;
  for (let b = 0; b < s.batch; b++) {
    const row = b * (H + 1);
    const [first, last] = buffer.episodeOf(slots[row]!);
    const start = relabeler.agentCell(stored, slots[row]! * O);
    let goal = start;
    for (let d = 0; d < DRAWS && goal === start; d++)
      goal = relabeler.agentCell(stored, (slots[row]! + 1 + rng.int(last - slots[row]!)) * O);
    if (goal === start) continue;
    let ended = false;
    let repeat = false; // past the terminal observation: the buffer repeats it
    for (let t = 0; t <= H; t++) {
      const at = (row + t) * O;
      if (repeat) s.obs.copyWithin(at, at - O, at);
      else relabeler.withGoalAt(s.obs, at, goal, s.obs, at);
      repeat = ended;
      if (t === H) break;
      const k = b * H + t;
      if (ended) {
        s.mask[k] = 0;
        s.rewards[k] = 0;
        s.terminated[k] = 0;
      } else if (s.mask[k]! > 0) {
        if (relabeler.agentCell(stored, slots[row + t + 1]! * O) === goal) {
          s.rewards[k] = relabeler.reward(slots[row + t + 1]! - first);
          s.terminated[k] = 1;
          ended = true;
        } else if (s.rewards[k]! > 0) {
          // The real goal: an ordinary floor cell now. The episode's data stops there, so the
          // sequence does too (mask 0 after it) and bootstraps from that cell.
          s.rewards[k] = 0;
          s.terminated[k] = 0;
        }
      }
    }
  }
  return s;
}

/** The TD rows of `a` followed by those of `b` (concatBatches), disposing both. */
export function withRows(a: TdBatch, b: TdBatch): TdBatch {
  const out = concatBatches(a, b);
  tf.dispose([a, b] as unknown as tf.TensorContainer);
  return out;
}
