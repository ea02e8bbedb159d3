// What the imagination agent remembers of one episode: the memories its options keep per episode.
// One object, so that a new episode starts from a fresh one and an evaluation can set the training
// episode's aside and give it back unchanged.
import { EpisodeCodes } from "./novelty.ts";

export class EpisodeMemory {
  /** Visits of each observation (config.loopBreak). */
  readonly visits = new Map<string, number>();
  /** No-op memory (config.noOpMemory): actions that left each observation unchanged. */
  readonly noOps = new Map<string, Set<number>>();
  /** Revisit memory (config.revisitMemory): how often each action was taken in each observation. */
  readonly tried = new Map<string, number[]>();
  /** The last observation's key and the action taken there (no-op memory). */
  last: { key: string; action: number } | undefined;
  /** Episodic novelty (config.novelty): the distinct codes met. */
  readonly codes: EpisodeCodes;

  constructor(codebookSize: number) {
    this.codes = new EpisodeCodes(codebookSize);
  }
}
