// Work that can pause between its steps: a generator that yields after each (an evaluation, after
// every env step), so that its caller can turn the event loop (Ctrl-C's handler runs only then) or
// end it part-way (`return()` runs its `finally` blocks). drain() runs one to its end at once.
export type Stepwise<T> = Generator<void, T, undefined>;

/** Runs `steps` to its end without pausing; returns its result. */
export function drain<T>(steps: Stepwise<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
