"""What a user watches during training: TensorBoard scalars, a progress bar, the episode record.

Log keys follow cleanrl: ``charts/episodic_return``, ``charts/episodic_length``,
``charts/episodic_<metric>`` (delay, penalty, energy where the env reports them),
``charts/sps``, ``losses/value_loss``, ``losses/policy_loss``, ``losses/entropy``.
"""

from __future__ import annotations

import sys
import time

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.envs import Episode

_MININTERVAL = 0.1 if sys.stderr.isatty() else 30.0
"""Seconds between bar updates: a terminal redraws, a log file gets a line every half minute."""


class RunMonitor:
    """TensorBoard writer, progress bar and the list of finished episodes of one run.

    A resumed run (``resumed=True``) hides what the interrupted run logged after its checkpoint
    (TensorBoard's ``purge_step``: steps past ``start_steps``), so no step shows twice. The
    bar stops at ``total_steps``, although agents may finish a rollout past it.
    """

    def __init__(self, run_dir, total_steps: int, start_steps: int = 0, progress: bool = True, resumed: bool = False):
        self.writer = SummaryWriter(str(run_dir), purge_step=start_steps + 1 if resumed else None)
        self.episodes: list[tuple[int, Episode]] = []
        self.total_steps = int(total_steps)
        self.start_steps = self.steps = start_steps
        self._start_time = time.monotonic()
        self._bar = None
        if progress:
            initial = min(start_steps, self.total_steps)
            self._bar = tqdm(
                total=self.total_steps,
                initial=initial,
                unit="step",
                dynamic_ncols=True,
                file=sys.stderr,
                mininterval=_MININTERVAL,
            )

    def phase(self, total: int, description: str, unit: str = "slot"):
        """A progress bar for a phase before the training steps (the warm start's demonstrations), shown
        when the run's bar is; close it (or use it as a context manager) when the phase ends."""
        return tqdm(
            total=total,
            desc=description,
            unit=unit,
            disable=self._bar is None,
            dynamic_ncols=True,
            file=sys.stderr,
            mininterval=_MININTERVAL,
        )

    def sps(self) -> float:
        """Environment steps per second since this run (or resumption) started."""
        return (self.steps - self.start_steps) / max(time.monotonic() - self._start_time, 1e-9)

    def advance(self, step: int) -> None:
        """Move the step count to ``step`` (the bar no further than the total)."""
        self.steps = max(self.steps, step)
        if self._bar is not None:
            shown = min(self.steps, self.total_steps)
            if shown > self._bar.n:
                self._bar.update(shown - self._bar.n)

    def episode(self, step: int, episode: Episode) -> None:
        self.episodes.append((step, episode))
        self.writer.add_scalar("charts/episodic_return", episode.episode_return, step)
        self.writer.add_scalar("charts/episodic_length", episode.length, step)
        for key, value in episode.metrics.items():
            self.writer.add_scalar(f"charts/episodic_{key}", value, step)
        if self._bar is not None:
            self._bar.set_postfix_str(f"return {episode.episode_return:.4g}", refresh=False)

    def losses(self, step: int, values: dict) -> None:
        """Log ``losses/<name>`` for each entry and the current steps per second."""
        for key, value in values.items():
            self.writer.add_scalar(f"losses/{key}", value, step)
        self.writer.add_scalar("charts/sps", self.sps(), step)

    def close(self) -> None:
        self.writer.close()
        if self._bar is not None:
            self._bar.close()
