// The training workloads that every backend is timed on (and bench/torch_reference.py mirrors):
//   W1: MLP 64-256-256-64, batch 256, MSE, one Adam step.
//   W5: a 5-step ST Gumbel-softmax latent rollout, batch 256: codebook of 64 codes of dim 8,
//       dynamics MLP (code 8 ++ action 4) -> 256 -> 256 -> 64 logits, cross-entropy to target
//       codes at every step, gradients through all 5 steps; one Adam step.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../common/rng.ts";
import { Mlp } from "../worldmodel/nn/mlp.ts";
import { Noise, getEstimator } from "../worldmodel/estimators/index.ts";

export interface Workload {
  name: string;
  /** Floating-point operations of one training step (forward 2*MACs, backward twice that). */
  flops: number;
  step(): void;
  dispose(): void;
}

const BATCH = 256;

function randomTensor(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );
}

export function mlpWorkload(seed = 0): Workload {
  const rng = new Rng(seed);
  const net = new Mlp([64, 256, 256, 64], rng.childSeed());
  const x = randomTensor(rng, [BATCH, 64]) as tf.Tensor2D;
  const y = randomTensor(rng, [BATCH, 64]);
  const opt = tf.train.adam(1e-3);
  return {
    name: "W1 mlp 64-256-256-64 b256",
    flops: 3 * 2 * BATCH * net.macsPerExample,
    step: () => {
      tf.tidy(() => {
        opt.minimize(() => tf.mean(tf.squaredDifference(net.apply(x), y)) as tf.Scalar, false, net.variables);
      });
    },
    dispose: () => {
      net.dispose();
      opt.dispose();
      tf.dispose([x, y]);
    },
  };
}

export function rolloutWorkload(seed = 0, horizon = 5): Workload {
  const rng = new Rng(seed);
  const codes = 64;
  const dim = 8;
  const actionDim = 4;
  const dynamics = new Mlp([dim + actionDim, 256, 256, codes], rng.childSeed());
  const codebook = tf.variable(randomTensor(rng, [codes, dim]), true, "codebook");
  const start = randomTensor(rng, [BATCH, dim]) as tf.Tensor2D;
  const actions = Array.from({ length: horizon }, () => randomTensor(rng, [BATCH, actionDim]));
  const targets = Array.from({ length: horizon }, () =>
    tf.cast(
      tf.oneHot(
        tf.tensor1d(
          Int32Array.from({ length: BATCH }, () => rng.int(codes)),
          "int32",
        ),
        codes,
        1,
        0,
        "int32",
      ),
      "float32",
    ),
  );
  const noise = new Noise(rng.childSeed());
  const sample = getEstimator("st-gumbel-softmax");
  const opt = tf.train.adam(1e-3);
  return {
    name: `W5 st-gs rollout H${horizon} b256 64x8`,
    flops: 3 * 2 * BATCH * horizon * (dynamics.macsPerExample + codes * dim),
    step: () => {
      tf.tidy(() => {
        opt.minimize(
          () => {
            let code: tf.Tensor2D = start;
            let loss: tf.Tensor = tf.scalar(0);
            for (let t = 0; t < horizon; t++) {
              const logits = dynamics.apply(tf.concat([code, actions[t]!], 1) as tf.Tensor2D);
              loss = tf.add(
                loss,
                tf.mul(0.9 ** t, tf.mean(tf.neg(tf.sum(tf.mul(targets[t]!, tf.logSoftmax(logits)), 1)))),
              );
              code = tf.matMul(sample(logits, { tau: 1, noise }).value, codebook) as tf.Tensor2D;
            }
            return loss as tf.Scalar;
          },
          false,
          [...dynamics.variables, codebook],
        );
      });
    },
    dispose: () => {
      dynamics.dispose();
      opt.dispose();
      tf.dispose([codebook, start, ...actions, ...targets]);
    },
  };
}
