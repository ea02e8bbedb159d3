// npm start's configuration: its defaults, and how they combine with a config file and the options
// a user typed.
import { deepMerge } from "../common/configMerge.ts";

/** The default task and budget: about a minute on one core. */
export const MAIN_DEFAULTS = {
  env: "Catch-v0",
  algorithm: "planner",
  steps: 6000,
  seed: 0,
  evalEvery: 500,
  seedSteps: 500,
  mode: "expected",
  // The decoder only draws the imagined frames of episode.apng (its loss does not shape the codes).
  worldModel: { estimator: "st-gumbel-softmax", tau: 1, decoder: { enabled: true } },
};

export interface MainOptions {
  env?: string;
  algorithm?: string;
  estimator?: string;
  tau?: number;
  steps?: number;
  seed?: number;
  evalEvery?: number;
  mode?: string;
  horizon?: number;
  samples?: number;
  iterations?: number;
  config?: string;
  out: string;
  resume: boolean;
  allCheckpoints?: boolean;
  backend: string;
}

/**
 * The run's agent config: MAIN_DEFAULTS, then the config file, then the options the user typed
 * (commander's defaults never override the file). Validated once, by parseAgentConfig in the run.
 */
export function mainConfig(
  o: MainOptions,
  file: Record<string, unknown>,
): Record<string, unknown> & { algorithm: string } {
  const typed = (name: keyof MainOptions) => (o[name] !== undefined ? { [name]: o[name] } : {});
  const flags = {
    ...typed("env"),
    ...typed("algorithm"),
    ...typed("steps"),
    ...typed("seed"),
    ...typed("evalEvery"),
    ...typed("mode"),
    planner: { ...typed("horizon"), ...typed("samples"), ...typed("iterations") },
    worldModel: { ...typed("estimator"), ...typed("tau") },
  };
  const config = deepMerge(deepMerge(MAIN_DEFAULTS, file, "--config"), flags);
  // A short run still gets its seed steps inside the run.
  if (typeof config.seedSteps === "number" && typeof config.steps === "number")
    config.seedSteps = Math.min(config.seedSteps, config.steps);
  return config as Record<string, unknown> & { algorithm: string };
}
