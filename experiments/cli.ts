// What the command-line entry points share: option parsers and how a command reports bad input:
// one line on stderr naming the problem and exit code 1, never a stack trace (set
// GUMBEL_WORLDS_DEBUG=1 to see one).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError, type Command } from "commander";

/** A commander parser for a positive integer option, naming the option in its error. */
export const positiveInt =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };

/** A commander parser for a non-negative integer option. */
export const nonNegativeInt =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
    return n;
  };

/** A commander parser for a finite positive number. */
export const positiveNumber =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a finite positive number, got '${v}'`);
    return n;
  };

/** One line for an error: its message (a multi-line one folded), the stack only with GUMBEL_WORLDS_DEBUG. */
export function reportError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`error: ${message.trim().replace(/\s*\n\s*/g, " | ")}`);
  if (process.env.GUMBEL_WORLDS_DEBUG && err instanceof Error) console.error(err.stack);
}

let installed = false;

/**
 * Errors that escape every await (a throw in a callback, a rejected promise nobody awaits) also end
 * as one line and exit 1. Prepended, so they run before the WASM backend's own handler, which
 * rethrows and so prints its whole minified source line.
 */
function installFatalHandlers(): void {
  if (installed) return;
  installed = true;
  const fatal = (err: unknown) => {
    reportError(err);
    process.exit(1);
  };
  process.prependListener("uncaughtException", fatal);
  process.prependListener("unhandledRejection", fatal);
}

/** Runs an entry point's main function under the error handling above. */
export async function runMain(main: () => unknown): Promise<void> {
  installFatalHandlers();
  try {
    await main();
  } catch (err) {
    reportError(err);
    process.exitCode = 1;
  }
}

/** Runs a commander program under the error handling above. */
export async function runCli(program: Command): Promise<void> {
  await runMain(() => program.parseAsync());
}

/** Commander's collector for a repeatable option (undefined until given, where it has no default). */
export const repeatable = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** exp's and sweep's option that runs some of the runs first (runSweep's `only`). */
export const ONLY_OPTION = [
  "--only <run>",
  "run only this run, named as --status names it (e.g. Breakout-v0-agent-seed3; repeatable): the others wait, their records and checkpoints untouched",
] as const;

/** --status runs nothing, so --only (the runs to run) has nothing to choose there: one line says so. */
export function refuseStatusWithOnly(o: { status: boolean; only?: string[] }): void {
  if (o.status && o.only) throw new Error("--only chooses the runs to run and --status runs none: give one of them");
}

/** exp's and sweep's option that runs nothing and says where each run stands. */
export const STATUS_OPTION = [
  "--status",
  "run nothing: print which runs have records and where the others are (step, checkpoint, evaluations)",
  false,
] as const;

/** The option every command shares: user modules (envs they register, experiments) loaded first. */
export const IMPORT_OPTION = [
  "--import <file>",
  "a module to load first, e.g. one that calls register() (repeatable)",
] as const;

/**
 * The `--import` files on a command line, read before commander parses it: modules that register
 * experiments must load before the commands are made from the registry.
 */
export function importsInArgv(argv: readonly string[]): string[] {
  const files: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === "--import" && argv[i + 1] !== undefined) files.push(argv[i + 1]!);
    else if (arg.startsWith("--import=")) files.push(arg.slice("--import=".length));
  });
  return files;
}

/**
 * Loads user modules (a missing file is one clear error) and returns their file URLs, for worker
 * processes to load too (node --import).
 */
export async function importUserModules(files: readonly string[]): Promise<string[]> {
  const urls: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`--import: no file '${file}'`);
    const url = pathToFileURL(resolve(file)).href;
    await import(url);
    urls.push(url);
  }
  return urls;
}

/** exp's and sweep's checkpoint options: none, the last of each agent run (the default) or every evaluation's. */
export function addCheckpointOptions(command: Command): Command {
  return command
    .option(
      "--no-checkpoints",
      "agent runs keep no checkpoint (by default each keeps its last under <exp>-checkpoints/)",
    )
    .option(
      "--all-checkpoints",
      "agent runs keep every evaluation's checkpoint (ckpt-<step>, about 8 MB each on DoorKey-8x8), not only the last",
      false,
    );
}

/** Hands those options to this process's runs and to its worker processes, which inherit the environment. */
export function applyCheckpointOptions(o: { checkpoints: boolean; allCheckpoints: boolean }): void {
  if (!o.checkpoints && o.allCheckpoints)
    throw new Error("--no-checkpoints and --all-checkpoints contradict each other");
  if (!o.checkpoints) process.env.GUMBEL_WORLDS_CHECKPOINTS = "0";
  else if (o.allCheckpoints) process.env.GUMBEL_WORLDS_CHECKPOINTS = "all";
}
