import { describe, expect, it } from "vitest";
import { drain, type Stepwise } from "./stepwise.ts";

describe("drain", () => {
  it("runs every step and returns the result; return() part-way runs the finally block", () => {
    const done: number[] = [];
    let cleaned = 0;
    function* count(n: number): Stepwise<number> {
      try {
        for (let i = 0; i < n; i++) {
          done.push(i);
          yield;
        }
        return n * 10;
      } finally {
        cleaned++;
      }
    }
    expect(drain(count(3))).toBe(30);
    expect(done).toEqual([0, 1, 2]);
    expect(cleaned).toBe(1);
    const steps = count(5);
    steps.next();
    steps.next();
    steps.return(0);
    expect(done).toEqual([0, 1, 2, 0, 1]);
    expect(cleaned).toBe(2);
  });
});
