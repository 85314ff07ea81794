"""Hand-run benchmark for memlab.landscape (``python benchmarks/bench_landscape.py``).

(a) Batched gradient descent (``ls.gradient_descent``: batched matrix products over all
    students at once) against a plain NumPy loop (for every student, for every step: the
    vectorised NumPy gradient of ``ls.gradient`` and an update), on the same starts, both with
    single-threaded BLAS; the final weights are checked to agree.  (A numba kernel looping over
    students and steps, the first version of ``gradient_descent``, was 2.6x slower than the
    batched products: its cost is the scalar ``tanh`` calls, which numpy vectorises.)
(b) The damped-Newton polish (``ls.polish``) per student.
(c) The Chapter 10 teacher-student sweep (widths 4, 5, 6, 8; 64 starts each) with two more
    seeds, so that the success fractions printed in the chapter can be compared.
(d) The Chapter 10 string method between permuted minima of a width-2 teacher, for the
    chapter's seed and three more: barrier, the Newton-refined top (loss, inertia) and the
    best width-1 loss.  Measured 2026-12-02: seeds 2019, 1, 7 give barrier = saddle loss =
    best width-1 loss (4 digits) and a first-order saddle (1, 1, 4); for seed 42 the string is
    not converged after 1500 iterations (bumpy losses; the top refines to a far-away critical
    point with saturated neurons), so that case is not a permutation saddle.

A warm-up call comes first.  CPU times are process times; on the
loaded 2-core machine wall times are inflated.  Takes about a minute.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import landscape as ls  # noqa: E402
from memlab._common import blas_threads_for  # noqa: E402


def numpy_loop(w, a, x, y, lr, n_steps):
    """Plain NumPy: one student at a time, one vectorised gradient per step."""
    w = w.copy()
    a = a.copy()
    for b in range(w.shape[0]):
        wb, ab = w[b], a[b]
        for _ in range(n_steps):
            s = np.tanh(x @ wb.T)
            e = (s @ ab - y[:, None]) / x.shape[0]
            ga = s.T @ e
            gw = ((e @ ab.T) * (1 - s * s)).T @ x
            wb -= lr * gw
            ab -= lr * ga
    return w, a


def timed(func, *args, **kwargs):
    t0, c0 = time.perf_counter(), time.process_time()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def main():
    rng = np.random.default_rng(0)
    angles = np.arange(4) * np.pi / 4 + 0.3
    teacher_w = 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    teacher_a = np.array([1.0, -1.0, 1.0, -1.0])
    x = rng.normal(size=(80, 2))
    y = ls.forward(teacher_w, teacher_a, x)

    n_students, width, n_steps, lr = 64, 5, 500, 0.5
    start = ls.random_students(n_students, width, 2, rng=rng)
    ls.gradient_descent(start.w[:2], start.a[:2], x, y, lr=lr, n_steps=2)  # warm-up
    batched, wall_b, cpu_b = timed(
        ls.gradient_descent, start.w, start.a, x, y, lr=lr, n_steps=n_steps
    )
    with blas_threads_for(0):
        (w_np, a_np), wall_n, cpu_n = timed(numpy_loop, start.w, start.a, x, y, lr, n_steps)
    gap = max(np.abs(batched.w - w_np).max(), np.abs(batched.a - a_np).max())
    print(
        f"(a) gradient descent, {n_students} students x {n_steps} steps "
        f"(m = {width}, N = 80, d = 2):"
    )
    print(f"    batched products:     wall {wall_b:.3f} s, CPU {cpu_b:.3f} s")
    print(f"    plain NumPy loop:     wall {wall_n:.3f} s, CPU {cpu_n:.3f} s")
    print(f"    speed-up: {wall_n / wall_b:.0f}x wall, {cpu_n / cpu_b:.0f}x CPU")
    print(f"    largest difference of the final weights: {gap:.1e}")

    _, wall_p, cpu_p = timed(ls.polish, batched.w, batched.a, x, y)
    print(
        f"(b) damped-Newton polish to |grad| <= 1e-10: {1e3 * wall_p / n_students:.1f} ms wall, "
        f"{1e3 * cpu_p / n_students:.1f} ms CPU per student"
    )

    print("(c) Chapter 10 sweep (success fraction +- binomial s.e., 64 starts):")
    for seed in (2019, 1, 2):
        gen = np.random.default_rng(seed)
        xs = gen.normal(size=(80, 2))
        ys = ls.forward(teacher_w, teacher_a, xs)
        row = []
        for m in (4, 5, 6, 8):
            res = ls.train_students(
                xs, ys, m, 64, rng=np.random.default_rng([seed, m]), lr=0.5, n_steps=2000
            )
            p = np.mean(res.loss < 1e-10)
            row.append(f"m={m}: {p:.2f}+-{np.sqrt(p * (1 - p) / 64):.2f}")
        print(f"    inputs seed {seed}: " + ", ".join(row))

    print("(d) string method between permuted minima of a width-2 teacher:")
    for seed in (2019, 1, 7, 42):
        data = ls.teacher_data(60, 2, 2, rng=np.random.default_rng([seed, 2]))
        w2, a2 = data.teacher
        path = ls.string_method(
            ls.pack(w2, a2),
            ls.pack(*ls.permute_neurons(w2, a2, [1, 0])),
            data.x,
            data.y,
            2,
            n_images=15,
            n_steps=1500,
            step=0.5,
        )
        top = ls.unpack(path.params[path.top], 2, 2)
        saddle = ls.newton_critical_point(top.w, top.a, data.x, data.y)
        inertia = ls.hessian_inertia(ls.hessian(saddle.w, saddle.a, data.x, data.y))
        one = ls.train_students(
            data.x, data.y, 1, 8, rng=np.random.default_rng([seed, 3]), n_steps=1500
        )
        print(
            f"    seed {seed}: barrier {path.barrier:.4g}, refined top {saddle.loss:.4g} "
            f"(|grad| {saddle.grad_norm:.0e}, inertia {inertia[:3]}), "
            f"best width-1 {one.loss.min():.4g}"
        )


if __name__ == "__main__":
    main()
