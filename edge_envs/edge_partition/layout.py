"""Array layouts of EdgePartition: the one definition of the observation and of the compiled step's
outcome row, from which the envs' encoding, the kernels' offsets and the observation table of the
env's docstring derive.
"""

from __future__ import annotations

import numpy as np


class Layout:
    """Index of each named part of an array whose parts lie end to end, for M blocks and N servers.

    ``PARTS``: (key, size) in order, size ``"M"`` (one entry per block), ``"N"`` (per server) or 1 (a
    single index). ``parts[key]`` (also ``self.<key>``) is a slice, or an int for a size-1 part;
    ``starts`` (int64, in ``PARTS`` order) is each part's first index, as the compiled kernels read it.
    """

    PARTS: tuple = ()

    def __init__(self, num_blocks: int, num_servers: int):
        sizes = {"M": num_blocks, "N": num_servers, 1: 1}
        self.parts, starts, at = {}, [], 0
        for key, size in self.PARTS:
            self.parts[key] = at if size == 1 else slice(at, at + sizes[size])
            starts.append(at)
            at += sizes[size]
        self.size = at
        self.starts = np.array(starts, dtype=np.int64)
        self.starts.setflags(write=False)
        self.__dict__.update(self.parts)

    @classmethod
    def index_text(cls) -> list[str]:
        """Each part's indices written with M and N, as the docstring tables show them ("5M+N .. 5M+2N-1")."""

        def text(m: int, n: int, c: int) -> str:
            terms = [f"{k if k != 1 else ''}{name}" for k, name in ((m, "M"), (n, "N")) if k]
            out = "+".join(terms)
            return out + (f"{c:+d}" if c and out else "" if out else str(c))

        out, at = [], [0, 0, 0]
        for _, size in cls.PARTS:
            step = {"M": (1, 0, 0), "N": (0, 1, 0), 1: (0, 0, 1)}[size]
            end = [a + s for a, s in zip(at, step)]
            out.append(text(*at) if size == 1 else f"{text(*at)} .. {text(end[0], end[1], end[2] - 1)}")
            at = end
        return out


# (key, size, what it holds, its encoding); s(x) = x / (1 + x), lambda = task_rate
OBSERVATION = (
    ("local_latency", "M", "local latency of each block on the device", "s(lambda * latency)"),
    ("edge_latency", "M", "edge latency of each block (profile, speed 1)", "s(lambda * latency)"),
    ("input_size", "M", "input size of each block (block 0: the raw image)", "s(lambda * bits / lowest rate)"),
    ("output_size", "M", "output size of each block", "s(lambda * bits / lowest rate)"),
    ("deadline", "M", "deadline tau_m of each block this slot", "tau / highest deadline"),
    ("speed", "N", "speed of each server this slot", "speed / highest base speed"),
    ("queue", "N", "queued work of each server (seconds to drain)", "s(backlog / slot_s)"),
    ("rate", "N", "rate from the device to each server (relays incl.)", "rate / highest wireless rate"),
    ("device_queue", 1, "queued work of the device's CPU", "s(backlog / slot_s)"),
    ("tasks", 1, "tasks released this slot", "s(tasks / (lambda * slot_s))"),
    ("energy", 1, "remaining energy", "E_left / E_max"),
    ("time_left", 1, "time left", "(T - t) / T"),
)
STATIC_KEYS = ("local_latency", "edge_latency", "input_size", "output_size")  # fixed for the episode, first


class ObservationLayout(Layout):
    """The observation's parts (:data:`OBSERVATION`); ``static`` spans the :data:`STATIC_KEYS` parts."""

    PARTS = tuple((key, size) for key, size, *_ in OBSERVATION)

    def __init__(self, num_blocks: int, num_servers: int):
        super().__init__(num_blocks, num_servers)
        self.static = slice(0, self.parts[STATIC_KEYS[-1]].stop)

    @classmethod
    def table(cls) -> list[tuple[str, str, str]]:
        """(index, what it holds, encoding) of each part: the rows of the env's observation table."""
        return [(index, what, encoding) for index, (_, _, what, encoding) in zip(cls.index_text(), OBSERVATION)]


# a row of CompiledCore.step's outcome array: the slot's outcome (keys and meanings as SlotOutcome's
# fields), the tasks and energy left of the slot now starting; then the per-block and per-server parts
# of the slot, and the slot now starting's ``queue`` (backlog in seconds at its speeds), ``server_speed``,
# ``rate`` (bit/s from the device, 1 / access time) and ``deadline``
OUTCOME = (
    ("reward", 1),
    ("cost", 1),
    ("delay", 1),
    ("penalty", 1),
    ("energy", 1),
    ("outage", 1),
    ("ran_out", 1),
    ("device_queue_end", 1),
    ("device_load", 1),
    ("next_tasks", 1),
    ("energy_left", 1),
    ("block_delay", "M"),
    ("block_transfer", "M"),
    ("block_compute", "M"),
    ("block_wait", "M"),
    ("block_excess", "M"),
    ("server_load", "N"),
    ("queue_end", "N"),
    ("queue", "N"),
    ("server_speed", "N"),
    ("rate", "N"),
    ("deadline", "M"),
)
SCALARS = next(i for i, (_, size) in enumerate(OUTCOME) if size != 1)  # the leading single entries
# their indices, named after their keys (a test checks the names against OUTCOME)
(REWARD, COST, DELAY, PENALTY, ENERGY, OUTAGE, RAN_OUT, DEVICE_QUEUE_END, DEVICE_LOAD, NEXT_TASKS, ENERGY_LEFT) = range(
    SCALARS
)


class Outcome(Layout):
    """The outcome row's parts (:data:`OUTCOME`); ``BLOCK_KEYS``: the per-block parts of the slot, in
    the order the kernel's ``along`` holds them."""

    PARTS = OUTCOME
    BLOCK_KEYS = ("block_delay", "block_transfer", "block_compute", "block_wait", "block_excess")
