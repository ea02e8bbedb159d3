"""Timing for the PyTorch references (bench/torch_*.py): the median of repeated calls after a warm-up."""
import time


def median_ms(fn, repeats=30, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    n = len(times)
    return times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
