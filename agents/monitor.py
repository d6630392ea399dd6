"""What a user watches during training: TensorBoard scalars, a progress bar, the episode record.

Log keys follow cleanrl: ``charts/episodic_return``, ``charts/episodic_length``,
``charts/episodic_<metric>`` (delay, penalty, energy where the env reports them),
``charts/sps``, ``losses/value_loss``, ``losses/policy_loss``, ``losses/entropy``.
"""

from __future__ import annotations

import sys
import time

from agents.envs import Episode

try:  # a nicer bar when tqdm happens to be installed; never a dependency
    from tqdm import tqdm
except ImportError:  # pragma: no cover - depends on the environment
    tqdm = None


class _LineProgress:
    """A one-line progress display, redrawn at most once a second."""

    def __init__(self, total: int, initial: int):
        self.total, self.n, self._last = total, initial, 0.0
        self.postfix = ""

    def update(self, n: int) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= 1.0 or self.n >= self.total:
            self._last = now
            print(f"\r{self.n}/{self.total} steps ({100 * self.n / max(self.total, 1):.0f}%) {self.postfix}", end="", file=sys.stderr)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        print(file=sys.stderr)


class RunMonitor:
    """TensorBoard writer, progress display and the list of finished episodes of one run."""

    def __init__(self, run_dir, total_steps: int, start_steps: int = 0, progress: bool = True):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(run_dir))
        self.episodes: list[tuple[int, Episode]] = []
        self.start_steps = self.steps = start_steps
        self._start_time = time.monotonic()
        self._bar = None
        if progress:
            if tqdm is not None:
                self._bar = tqdm(total=total_steps, initial=start_steps, unit="step", dynamic_ncols=True)
            else:
                self._bar = _LineProgress(total_steps, start_steps)

    def sps(self) -> float:
        """Environment steps per second since this run (or resumption) started."""
        return (self.steps - self.start_steps) / max(time.monotonic() - self._start_time, 1e-9)

    def advance(self, step: int) -> None:
        """Move the step count (and the bar) to ``step``."""
        if self._bar is not None and step > self.steps:
            self._bar.update(step - self.steps)
        self.steps = max(self.steps, step)

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
