"""Model -> Program -> kernel -> merged reductions.

``encoding`` (family codes, opcodes) and ``compiler`` turn a validated Model into a Program;
``separable`` finds outputs whose days are a fixed profile of their month; ``_kernel`` is the
private Numba kernel; ``histogram`` holds the maths of keys, windows, quantiles and intervals;
``runner`` deals seeded blocks to the kernel and merges them; ``distributed`` runs the same blocks
on a dask cluster.
"""
