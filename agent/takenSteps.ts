// The (cell neighbourhood, action) pairs (worldmodel/nn/localStep.ts) of every step the agent took in
// the env, for the search's optimism about the others (planner.search.untried), and with `outcomes`
// the next code each pair led to and whether its steps were all quiet (planner.search: observed,
// quiet). Read from the replay buffer as it grows, so a run resumed from a checkpoint rebuilds them
// from its buffer.
import { tidyRead } from "../backend/tidyRead.ts";
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import type { WorldModel } from "../worldmodel/model.ts";
import { CellActionSet, CellOutcomes } from "../worldmodel/nn/localStep.ts";
import { rowsOf } from "./codeExpansion.ts";

/** Observations encoded per batch while reading the buffer. */
const CHUNK = 512;

export class TakenSteps {
  readonly seen: CellActionSet;
  /** With `outcomes`: the code each pair always led to. */
  readonly shown: CellOutcomes | undefined;
  /** Slots before this one have been read. */
  private upTo = 0;

  /**
   * For `model`'s cell keys (it must step on code indices) under `actions` Discrete actions; with
   * `outcomes`, the next codes too.
   */
  constructor(
    private readonly model: WorldModel,
    actions: number,
    outcomes = false,
  ) {
    if (!model.indexStepper())
      throw new Error(
        `agent config: planner.search.${outcomes ? "observed" : "untried"} needs a model stepped on code indices (encoder 'cells')`,
      );
    this.seen = new CellActionSet(actions);
    this.shown = outcomes ? new CellOutcomes(actions) : undefined;
  }

  /** Adds the keys (and outcomes) of the buffer's transitions since the last call. */
  read(buffer: ReplayBuffer): void {
    const end = buffer.size - 1; // the last slot may yet get its transition
    const slots: number[] = [];
    for (let i = this.upTo; i < end; i++) if (buffer.actionAt(i)) slots.push(i);
    this.upTo = Math.max(this.upTo, end);
    if (slots.length === 0) return;
    const stepper = this.model.indexStepper()!;
    for (let at = 0; at < slots.length; at += CHUNK) {
      const part = slots.slice(at, at + CHUNK);
      const taken = part.map((slot) => buffer.actionAt(slot)![0]!);
      // The part's slots and the one after each (a transition's next observation), encoded once:
      // consecutive transitions share their observations.
      const [first, last] = [part[0]!, part[part.length - 1]! + 1];
      const span = this.codesAt(buffer, first, last);
      const latents = span.length / (last - first + 1);
      const ids = rowsOf(
        span,
        part.map((slot) => slot - first),
        latents,
      );
      stepper.markSeen(ids, taken, this.seen);
      if (this.shown)
        stepper.markOutcomes(
          ids,
          taken,
          rowsOf(
            span,
            part.map((slot) => slot + 1 - first),
            latents,
          ),
          this.shown,
          part.map((slot) => buffer.eventfulAt(slot)),
        );
    }
  }

  /** The code indices [last - first + 1, L] of the buffer's observations at slots first..last. */
  private codesAt(buffer: ReplayBuffer, first: number, last: number): Int32Array {
    const size = buffer.obsSize;
    const flat = Float32Array.from(buffer.observations().subarray(first * size, (last + 1) * size));
    const m = this.model;
    // Read outside the tidy: tf.tidy walks a returned typed array value by value (backend/tidyRead.ts).
    return tidyRead(() => m.indices(m.encode(m.preprocess(flat, last - first + 1)))) as Int32Array;
  }
}
