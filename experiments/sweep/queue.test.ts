// The Redis queue against a real redis-server: two workers give the records of a local run, enqueueing
// again adds nothing, a throwing job is retried then listed, and a worker killed mid-job loses nothing.
import { spawn } from "node:child_process";
import { getEventListeners } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobRecordPath, type Job } from "./jobs.ts";
import { runLocal, tsxExecArgv } from "./localPool.ts";
import { connectionOf, QUEUE_NAME, runOnQueue, startQueueWorker } from "./queue.ts";
import { startRedis } from "./redisServer.ts";
import { comparable, throwingJob, tinyE1Jobs } from "./testSpecs.ts";

const root = mkdtempSync(join(tmpdir(), "queue-"));
// CI (.ci/run) provides a Redis in REDIS_URL; otherwise the test starts its own on a free port.
let redis: { url: string; stop: () => Promise<void> };
beforeAll(async () => {
  if (process.env.REDIS_URL) {
    redis = { url: process.env.REDIS_URL, stop: async () => {} };
    const queue = new Queue(QUEUE_NAME, { connection: connectionOf(redis.url) });
    await queue.obliterate({ force: true });
    await queue.close();
  } else redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

const records = (dir: string) =>
  readdirSync(join(dir, "e1-records"))
    .filter((f) => f.endsWith(".json"))
    .sort();
const read = (path: string) => comparable(JSON.parse(readFileSync(path, "utf8")));
const fast = { lockDurationMs: 3000, stalledIntervalMs: 1000 };

describe("sweeps through a Redis queue", () => {
  it("connects only to redis:// URLs", () => {
    expect(connectionOf("redis://10.0.0.5:6380/2")).toMatchObject({ host: "10.0.0.5", port: 6380, db: 2 });
    expect(() => connectionOf("http://x")).toThrow(/must start with redis:\/\//);
    expect(() => connectionOf("nope")).toThrow(/not a URL/);
  });

  it("two workers run the jobs; the records equal a local run's; enqueueing again adds nothing", async () => {
    const lines: string[][] = [[], []];
    const workers = [0, 1].map((k) =>
      startQueueWorker({ url: redis.url, concurrency: 1, backend: "cpu", ...fast, log: (l) => lines[k]!.push(l) }),
    );
    try {
      const dir = join(root, "queued");
      const jobs = tinyE1Jobs(dir);
      const report = await runOnQueue(jobs, { url: redis.url, pollMs: 100 });
      expect(report.failed).toEqual([]);
      expect(report.done.length).toBe(jobs.length);
      expect(lines.map((l) => l.filter((x) => x.startsWith("done")).length).every((n) => n > 0)).toBe(true);
      const localDir = join(root, "local");
      expect((await runLocal(tinyE1Jobs(localDir), { workers: 2, backend: "cpu" })).failed).toEqual([]);
      expect(records(dir)).toEqual(records(localDir));
      for (const f of records(dir))
        expect(read(join(dir, "e1-records", f))).toEqual(read(join(localDir, "e1-records", f)));
      // The same jobs again (a second coordinator, or the same sweep re-run): no new job, same results.
      rmSync(join(dir, "e1-records"), { recursive: true });
      const again = await runOnQueue(jobs, { url: redis.url, pollMs: 100 });
      expect(again.done.length).toBe(jobs.length);
      expect(existsSync(jobRecordPath(jobs[0]!))).toBe(true);
      const queue = new Queue(QUEUE_NAME, { connection: connectionOf(redis.url) });
      expect((await queue.getJobCounts("completed")).completed).toBe(jobs.length);
      await queue.close();
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 90_000);

  it("refuses a worker's reply that names a file or a record outside the results folder: the job fails, nothing is written", async () => {
    const dir = join(root, "hostile", "results");
    const [a, b] = tinyE1Jobs(dir).map((j, i) => ({ ...j, id: `hostile-${i}-${j.id}` }));
    const reply = (job: Job) =>
      job.id === a!.id
        ? {
            ok: true,
            id: job.id,
            summary: "",
            record: { run: job.run },
            files: { "../../outside/x": Buffer.from("x").toString("base64") },
          }
        : { ok: true, id: job.id, summary: "", record: { run: "../../evil" }, files: {} };
    const evil = new Worker<Job>(QUEUE_NAME, async (q) => reply(q.data), { connection: connectionOf(redis.url) });
    try {
      const report = await runOnQueue([a!, b!], { url: redis.url, pollMs: 100 });
      expect(report.done).toEqual([]);
      const errors = Object.fromEntries(report.failed.map((f) => [f.job.id, f.error]));
      expect(errors[a!.id]).toMatch(/side file \("\.\.\/\.\.\/outside\/x"\): "\.\." is not a plain name/);
      expect(errors[b!.id]).toMatch(/returned a record named "\.\.\/\.\.\/evil", expected "[a-z]/);
      expect(existsSync(join(root, "outside"))).toBe(false);
      expect(existsSync(join(root, "evil.json"))).toBe(false);
    } finally {
      await evil.close();
    }
  }, 60_000);

  it("polls without piling up abort listeners, and stops when aborted", async () => {
    const [job] = tinyE1Jobs(join(root, "unserved")).map((j) => ({ ...j, id: `unserved-${j.id}` }));
    const abort = new AbortController();
    const running = runOnQueue([job!], { url: redis.url, pollMs: 20, signal: abort.signal });
    await new Promise((r) => setTimeout(r, 1000)); // ~50 polls, nobody serving the queue
    expect(getEventListeners(abort.signal, "abort").length).toBeLessThanOrEqual(1);
    abort.abort();
    const report = await running;
    expect(report.interrupted).toBe(true);
    expect(report.left.map((j) => j.id)).toEqual([job!.id]);
  }, 60_000);

  it("retries a throwing job with backoff, then lists it with its error", async () => {
    const w = startQueueWorker({ url: redis.url, concurrency: 1, backend: "cpu", ...fast, log: () => {} });
    try {
      const report = await runOnQueue([throwingJob(join(root, "throws"))], {
        url: redis.url,
        attempts: 2,
        backoffMs: 100,
        pollMs: 100,
      });
      expect(report.done).toEqual([]);
      expect(report.failed.length).toBe(1);
      expect(report.failed[0]!.error).toMatch(/unknown estimator 'no-such-estimator'.*\(after 2 attempts\)/s);
    } finally {
      await w.close();
    }
  }, 60_000);

  it("a worker killed mid-job (kill -9) loses nothing: the job is retried by another worker", async () => {
    const dir = join(root, "killed");
    const job = tinyE1Jobs(dir, true).find((j) => j.run.startsWith("toy-st-gumbel"))!;
    const doomed = spawn(
      process.execPath,
      [
        ...tsxExecArgv(),
        join(import.meta.dirname, "workerMain.ts"),
        "--queue",
        redis.url,
        "--concurrency",
        "1",
        "--backend",
        "wasm",
        "--lock-ms",
        "3000",
        "--stalled-ms",
        "1000",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    doomed.stdout!.on("data", (d) => (out += d));
    const collecting = runOnQueue([job], { url: redis.url, pollMs: 100 });
    const end = Date.now() + 60_000;
    while (!out.includes(`running e1 ${job.run}`)) {
      if (Date.now() > end) throw new Error(`the worker did not start the job:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    doomed.kill("SIGKILL");
    const rescuer = startQueueWorker({ url: redis.url, concurrency: 1, backend: "wasm", ...fast, log: () => {} });
    try {
      const report = await collecting;
      expect(report.failed).toEqual([]);
      expect(report.done.map((j) => j.id)).toEqual([job.id]);
      expect(out).not.toContain(`done e1 ${job.run}`);
      const local = await runLocal([{ ...job, resultsDir: join(root, "killed-ref") }], { workers: 1, backend: "wasm" });
      expect(read(jobRecordPath(job))).toEqual(read(jobRecordPath(local.done[0]!)));
    } finally {
      await rescuer.close();
    }
  }, 180_000); // ~30 s on an idle 2-core machine
});
