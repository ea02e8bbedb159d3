// gumbel-worlds' public API: what a script needs to write envs, train and load agents and world
// models, imagine inside them, and reach the estimators and experiments. Import from here
// (`import { make, trainAgent } from "./index.ts"` in this repository); the folders behind it are
// documented in the README.

// Seeded randomness (every env, network and sampler draws from one of these).
export { Rng } from "./common/rng.ts";

// The tfjs backend: call once before any model.
export { initBackend, describeBackend, type BackendInfo, type BackendOptions } from "./backend/init.ts";

// Environments: the Gymnasium-style API, wrappers, vector envs, the checker, the built-in suite.
export * from "./envs/index.ts";

// Data: the replay buffer and the collector.
export { ReplayBuffer, type SequenceBatch } from "./data/replayBuffer.ts";
export { collect, explorerPolicy, randomPolicy, type BatchPolicy } from "./data/collector.ts";

// Gradient estimators for categorical samples (one file each under worldmodel/estimators/).
export {
  ESTIMATORS,
  ESTIMATOR_NAMES,
  getEstimator,
  Noise,
  scoreFunctionLoss,
  type Estimator,
} from "./worldmodel/estimators/index.ts";
export { exactGradient, estimateGradient } from "./worldmodel/exactGradient.ts";

// World models: config, model, trainer, evaluation, checkpoints.
export { parseWorldModelConfig, type WorldModelConfig } from "./worldmodel/config.ts";
export { WorldModel, envShapeOf } from "./worldmodel/model.ts";
export { WorldModelTrainer } from "./worldmodel/train.ts";
export { evaluate as evaluateWorldModel } from "./worldmodel/eval.ts";
export { loadWorldModel, saveWorldModel } from "./worldmodel/checkpoint.ts";

// Agents: config, training loop, evaluation, loading, imagination helpers, baselines.
export { parseAgentConfig, type AgentConfig } from "./agent/config.ts";
export { trainAgent, type TrainResult } from "./agent/train.ts";
export { evaluatePolicy, evaluationSeeds, type Policy } from "./agent/evaluate.ts";
export { buildAgent, loadAgent } from "./agent/load.ts";
export { ImaginationAgent } from "./agent/agent.ts";
export { DqnAgent } from "./agent/dqn.ts";
export type { Learner } from "./agent/learner.ts";
export { imagineStep, scoreSequences, PROPAGATION_MODES, type PropagationMode } from "./agent/imagination.ts";
export { OraclePlanner, RandomPolicy } from "./agent/baselines.ts";
export {
  reachableStates,
  probeAgentStates,
  optimalActions,
  type Reachable,
  type StateProbe,
} from "./agent/stateProbe.ts";

// Experiments: the registry behind `npm run exp` and `npm run sweep`.
export { EXPERIMENTS, experiment, registerExperiment, type ExperimentParts } from "./experiments/registry.ts";

// Aggregate statistics across tasks (Agarwal et al. 2021): IQM, stratified bootstrap, probability of improvement, profiles.
export {
  aggregates,
  aggregateIqm,
  normalizeScore,
  performanceProfile,
  probabilityOfImprovement,
  probabilityOfImprovementCi,
  stratifiedBootstrap,
  type Interval,
  type ScoresByTask,
} from "./experiments/aggregate.ts";
export { normaliseRuns, type SuiteRun } from "./experiments/suiteAggregate.ts";
