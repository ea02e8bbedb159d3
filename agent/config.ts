// The agent's configuration: the training loop, and the world model, planner and value settings it
// passes on. Validated at the edge (zod); every field documented. Defaults are sized for the
// suite's small tasks on a 2-core machine (see the README's Agent section for the measurements).
import { z } from "zod";
import { parseWorldModelConfig, type WorldModelConfig } from "../worldmodel/config.ts";
import { PROPAGATION_MODES } from "./imagination.ts";
import { PlannerConfig } from "./planner.ts";
import { ValueConfig } from "./value.ts";
import { DqnConfig } from "./dqn.ts";
import { issuesLine } from "../common/issues.ts";

/**
 * World-model settings for the agent: smaller and faster than the library defaults (8 latents,
 * 128-wide layers), tuned with the world-model probe (results/probe.md: whole-code accuracy on
 * random walks of each env, 3 seeds) so that the model is right within its first 3000 updates:
 * GridEmpty-8x8 1-step 0.98, 5-step open loop 0.94; Catch 0.99 and 0.98 (the settings of 846671d:
 * 0.66 / 0.37 and 0.82 / 0.61). Each of the three tuned settings matters on GridEmpty:
 * - batch 128 (batch 64 alone: 5-step 0.65);
 * - rollout weights rho 0.3 (TD-MPC2 0.5, DC-MPC 0.9): the later steps' losses on the model's own
 *   mis-sampled codes slow the first step's (rho 0.5 alone: 0.74);
 * - a slower encoder (TD-MPC2's 0.3) that stops after 1500 updates: while it learns, the dynamics
 *   chase moving codes; once it stops they catch up within ~500 updates, and codes learned longer
 *   are easier to predict (frozen after 1000 alone: 0.86).
 * lr 3e-3 (DC-MPC 1e-4 over 100x longer runs). The rollouts still go through ST Gumbel-softmax
 * samples (the estimator default).
 */
export const AGENT_WORLD_MODEL = {
  latents: 8,
  encoder: { hidden: [128] },
  dynamicsHidden: [128, 128],
  headHidden: [64],
  batch: 128,
  lr: 3e-3,
  rho: 0.3,
  encoderLrScale: 0.3,
  encoderFreezeAfter: 1500,
};

export const AgentConfig = z
  .object({
    env: z.string().default("GridEmpty-v0"),
    /** Options passed to make() (e.g. {size: 5} for a small GridEmpty). */
    envOptions: z.record(z.string(), z.unknown()).default({}),
    /**
     * Observations are the last this many frames (FrameStack, [k, ...shape]) for the agent, its
     * evaluations and DQN alike. Unset (as 1): the env's own observation; optional so that the
     * defaults' fingerprint, and with it every record made before it, stays the same.
     */
    frameStack: z.number().int().min(1).max(8).optional(),
    /**
     * A grid's full view redrawn around the agent (Egocentric: the agent at the centre facing up,
     * every cell still in view), for the agent, its evaluations and DQN alike. What lies ahead is
     * then the same input in every layout. Unset (as false): the env's own view; optional for the
     * same fingerprint reason as `frameStack`.
     */
    egocentric: z.boolean().optional(),
    /**
     * A Box action space becomes Discrete: each action element takes this many evenly spaced values,
     * bounds included (BoxActionGrid; 3 = low, middle, high). DQN needs it on a Box env. Unset: the
     * env's own actions (optional for the same fingerprint reason as `frameStack`).
     */
    actionGrid: z.number().int().min(2).max(64).optional(),
    /** `planner`: the imagination agent (MPC in the world model). `dqn`: the model-free baseline. */
    algorithm: z.enum(["planner", "dqn"]).default("planner"),
    seed: z.number().int().min(0).default(0),
    /** Environment steps of the whole run. */
    steps: z.number().int().min(1).default(20000),
    /** Uniform random actions for this many steps before the first update. */
    seedSteps: z.number().int().min(1).default(1000),
    /**
     * After the seed steps, a random action with probability epsilon, decaying linearly from
     * epsilonStart to epsilonEnd over this fraction of `steps`: runs of different lengths explore
     * differently at the same step (at step 2000, 0.87 in a 50k-step run, 0.05 in a 6000-step one).
     */
    exploration: z
      .object({
        epsilonStart: z.number().min(0).max(1).default(1),
        epsilonEnd: z.number().min(0).max(1).default(0.05),
        epsilonFraction: z.number().min(0).max(1).default(0.3),
      })
      .strict()
      .default({ epsilonStart: 1, epsilonEnd: 0.05, epsilonFraction: 0.3 }),
    /** World-model and value updates right after the seed steps (DC-MPC pretrains on its seed data). */
    pretrainUpdates: z.number().int().min(0).default(300),
    /**
     * World-model updates on the seed data before that burst (the imagination agent only: DQN has no
     * model). The encoder learns through them and stops at `encoderFreezeAfter`, so the model starts
     * acting on stable codes instead of reaching them 1500 env steps later.
     */
    modelPretrainUpdates: z.number().int().min(0).default(1200),
    /**
     * Share of every replayed batch (world model and value) drawn from sequences that meet a nonzero
     * reward or a termination. Sparse goals are ~0.2% of uniform batches: on GridEmpty-8x8 the reward
     * head then predicted 0.03 for the goal (true mean 0.54) after 2000 updates, 0.49 with 0.25.
     */
    eventFraction: z.number().min(0).max(1).default(0.25),
    /**
     * One world-model update and one value update every this many env steps (update-to-data ratio
     * 1 / updateEvery; TD-MPC2's and DC-MPC's 1). For both agents: DQN keeps the same ratio, so the
     * comparison is not won by doing more updates (efficiency runs, 2 seeds: the agent with imagined
     * backups reached GridEmpty-8x8 at 3000/4000 steps at ratio 1 and 6000/5000 at 1/2).
     */
    updateEvery: z.number().int().min(1).default(1),
    /** Evaluate (and checkpoint) every this many env steps, over this many episodes on fixed seeds. */
    evalEvery: z.number().int().min(1).default(2000),
    evalEpisodes: z.number().int().min(1).default(10),
    /** How imagined codes are propagated when planning (`expected` is deterministic). */
    mode: z.enum(PROPAGATION_MODES).default("expected"),
    /**
     * Loop breaking: once an observation has been seen more than this many times in an episode, act
     * uniformly at random there (0: never). A deterministic plan can cycle (GridEmpty: spinning in
     * place until the time limit), in evaluation too.
     */
    loopBreak: z.number().int().min(0).default(0),
    /**
     * No-op memory (Discrete actions): an action after which the observation did not change (forward
     * into a wall, pickup with nothing in front) is not taken again in that observation for the rest
     * of the episode, in training and evaluation. A plan whose value is still flat otherwise repeats
     * it until the time limit. Only what the agent saw happen; on a stochastic floor an action can
     * look like a no-op by chance and stay barred in that observation for the episode.
     */
    noOpMemory: z.boolean().default(true),
    /**
     * Revisit memory (Discrete actions): at an observation already seen in this episode, the plan
     * starts with one of the actions tried there least often (no-op memory's barred ones last), in
     * training and evaluation. Catches the cycles no-op memory does not (GridEmpty: turning left and
     * right in place until the time limit); on a stochastic floor a return by chance also counts as
     * a revisit. An untried action the model confidently predicts to end the episode is never forced
     * this way, only left to the plan's score (LavaGap: forcing it walked into lava).
     */
    revisitMemory: z.boolean().default(true),
    /**
     * Revisit memory takes a rewarded ending first (Discrete actions, with revisitMemory): at an
     * observation seen before this episode, an untried action the model confidently predicts to end
     * the episode with a reward (d_hat > 0.9, r_hat > 0.1: the goal, not lava) is the one the plan must
     * start with. Being back means the plan preferred a detour to it; on the grids the goal pays less
     * the later it is reached, and a goal step once taken late scores low (DoorKey-5x5: the agent
     * circled the goal to the time limit). Unset: such an action is left to the plan's score.
     */
    revisitGoals: z.boolean().optional(),
    /**
     * Episodic novelty bonus (agent/novelty.ts): each imagined step that survives adds this weight
     * times the model's probability that its code is not one met this episode, to the plan's score
     * (not to the value's targets), in training and evaluation. Unset (as 0): no bonus; optional for
     * the same fingerprint reason as `frameStack`.
     */
    novelty: z.number().min(0).optional(),
    /**
     * Grid envs (full view): each world-model batch's sequences are turned with their grids by a
     * random number of quarter turns (agent/turnAugment.ts). The grids' actions are relative to the
     * agent's heading, so a turned transition is a transition, and the local heads learn a step such
     * as the one into the goal from every heading after meeting it from one. DoorKey-8x8: a model
     * trained (1000 updates) on a buffer whose four arrivals all entered the goal from the left called
     * the step from above an ending on 0 of 50 layouts; turned, on 50 of 50 (docs). Unset: no turns;
     * optional for the same fingerprint reason as `frameStack`.
     */
    turnAugment: z.boolean().optional(),
    /**
     * Evaluation acts with averaged weights: a copy of the world model's and the Q heads' weights
     * trails the online ones by Polyak averaging at this rate per update (Polyak-Ruppert averaging;
     * the EMA weights many deep-learning recipes evaluate). A reward or value error that comes and
     * goes within a few hundred updates then reaches the evaluation damped, at the price of a lag of
     * about 1/rate updates. Training acts with the online weights. Unset: the online weights; optional
     * for the same fingerprint reason as `frameStack`.
     */
    evalAverage: z.number().positive().max(1).optional(),
    /**
     * With evalAverage: each evaluation runs a second time with the online weights, recorded beside
     * it (EvalPoint.online). Evaluations leave training alone, so the two are measured on one
     * training run: a paired comparison of the averaged and the online weights. Optional for the same
     * fingerprint reason as `frameStack`.
     */
    evalOnline: z.boolean().optional(),
    /** Sampled rollouts averaged per sequence in `average` mode. */
    modeSamples: z.number().int().min(1).default(8),
    /** World-model settings (worldmodel/config.ts), merged over AGENT_WORLD_MODEL. */
    worldModel: z.record(z.string(), z.unknown()).default({}),
    planner: PlannerConfig.default(PlannerConfig.parse({})),
    value: ValueConfig.default(ValueConfig.parse({})),
    dqn: DqnConfig.default(DqnConfig.parse({})),
  })
  .strict();
/** A parsed agent config: one object, its world-model settings parsed too (merged over AGENT_WORLD_MODEL). */
export type AgentConfig = Omit<z.infer<typeof AgentConfig>, "worldModel"> & { worldModel: WorldModelConfig };
export type AgentConfigInput = z.input<typeof AgentConfig>;

/** Parses an agent config, throwing one error that names every bad field (world-model fields included). */
export function parseAgentConfig(input: unknown): AgentConfig {
  const parsed = AgentConfig.safeParse(input ?? {});
  if (!parsed.success) throw new Error(`AgentConfig: ${issuesLine(parsed.error)}`);
  if (parsed.data.evalOnline && (parsed.data.evalAverage === undefined || parsed.data.algorithm !== "planner"))
    throw new Error(
      "AgentConfig: evalOnline: needs evalAverage and the planner (the online weights are what it evaluates otherwise)",
    );
  const wm = parsed.data.worldModel as Record<string, unknown>;
  const worldModel = parseWorldModelConfig({
    ...AGENT_WORLD_MODEL,
    ...wm,
    encoder: { ...AGENT_WORLD_MODEL.encoder, ...(wm.encoder as object) },
  });
  return { ...parsed.data, worldModel };
}
