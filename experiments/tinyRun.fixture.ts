// A run of an imagination agent small enough for a command's test (a few seconds): GridEmpty 5x5,
// 120 steps, 3 evaluation episodes, averaged evaluation weights (for --online). Tests add their evalEvery.
export const TINY_GRID_RUN = {
  env: "GridEmpty-v0",
  envOptions: { size: 5 },
  steps: 120,
  seedSteps: 40,
  pretrainUpdates: 2,
  modelPretrainUpdates: 0,
  evalEpisodes: 3,
  worldModel: { batch: 8 },
  value: { batch: 8 },
  evalAverage: 0.05,
};
