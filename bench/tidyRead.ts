// npm run bench -- tidy: reading a tidy scope's results, as the cells model's index stepper does per
// search step (next-code logits [n, 16] and two [n] columns): the values returned from inside
// tf.tidy (which walks each typed array element by element) against tidyReadAll (the tensors leave
// the scope, are read, then disposed). Alternated rounds, medians, the ratio.
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/init.ts";
import { tidyReadAll } from "../backend/tidyRead.ts";
import { median, medianMs, printTable } from "./timing.ts";

export async function benchTidyRead(args: string[]): Promise<void> {
  const info = await initBackend();
  const rounds = args.includes("--quick") ? 2 : 6;
  const rows: Record<string, string | number>[] = [];
  for (const n of [100, 1000, 4000]) {
    const x = tf.randomNormal([n, 16], 0, 1, "float32", 0);
    const compute = () => [tf.relu(x), tf.sum(x, 1), tf.max(x, 1)];
    const inside = () => tf.tidy(() => compute().map((t) => t.dataSync()));
    const outside = () => tidyReadAll(compute);
    const times: [number[], number[]] = [[], []];
    for (let r = 0; r < rounds; r++) {
      times[0].push(medianMs(inside, 10, 2));
      times[1].push(medianMs(outside, 10, 2));
    }
    x.dispose();
    const [a, b] = [median(times[0]), median(times[1])];
    rows.push({ rows: n, "read inside tidy (ms)": a, "tidyReadAll (ms)": b, ratio: a / b });
  }
  console.log(`# ${rounds} alternating rounds of 10 calls, medians; backend ${info.kind}`);
  printTable(rows);
}
