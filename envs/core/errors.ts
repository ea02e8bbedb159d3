// The error every env, wrapper and vector env throws for bad input: it names the env, the value and
// what was expected.
export class EnvError extends Error {
  override name = "EnvError";
}
