// What the command-line entry points share: option parsers and how a command reports bad input.
import { InvalidArgumentError, type Command } from "commander";

/** A commander parser for a positive integer option, naming the option in its error. */
export const positiveInt = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
  return n;
};

/** Runs a command; bad input is reported as a message (exit code 1), not a stack trace. */
export async function runCli(program: Command): Promise<void> {
  try {
    await program.parseAsync();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
