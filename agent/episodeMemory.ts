// What the imagination agent remembers of one episode: the memories its options keep per episode.
// One object, so that a new episode starts from a fresh one, an evaluation can set the training
// episode's aside and give it back unchanged, and a checkpoint can keep it (toJson / fromJson) for a
// resumed run to go on with the same episode.
import { z } from "zod";
import { EpisodeCodes } from "./novelty.ts";
import { issuesLine } from "../common/issues.ts";

const Json = z
  .object({
    visits: z.array(z.tuple([z.string(), z.number().int().min(0)])),
    noOps: z.array(z.tuple([z.string(), z.array(z.number().int().min(0))])),
    tried: z.array(z.tuple([z.string(), z.array(z.number().int().min(0))])),
    last: z
      .object({ key: z.string(), action: z.number().int().min(0) })
      .strict()
      .optional(),
    codes: z.array(z.string().regex(/^\d+(,\d+)*$/)),
  })
  .strict();
export type EpisodeMemoryJson = z.infer<typeof Json>;

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

  toJson(): EpisodeMemoryJson {
    return {
      visits: [...this.visits],
      noOps: [...this.noOps].map(([k, s]) => [k, [...s]]),
      tried: [...this.tried].map(([k, counts]) => [k, [...counts]]),
      ...(this.last ? { last: { ...this.last } } : {}),
      codes: this.codes.keys(),
    };
  }

  /** The memory toJson() wrote; a malformed one is refused with the field named. */
  static fromJson(json: unknown, codebookSize: number): EpisodeMemory {
    const parsed = Json.safeParse(json);
    if (!parsed.success) throw new Error(`episode memory: ${issuesLine(parsed.error)}`);
    const m = new EpisodeMemory(codebookSize);
    for (const [k, n] of parsed.data.visits) m.visits.set(k, n);
    for (const [k, actions] of parsed.data.noOps) m.noOps.set(k, new Set(actions));
    for (const [k, counts] of parsed.data.tried) m.tried.set(k, counts);
    m.last = parsed.data.last;
    for (const key of parsed.data.codes) m.codes.add(key.split(",").map(Number));
    return m;
  }
}
