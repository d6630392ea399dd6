"""Rendering helpers shared by every env of the suite: the render-mode check, matplotlib figures as
uint8 RGB arrays (``render_mode="rgb_array"``) and a window that shows them (``render_mode="human"``).

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas, never through pyplot's global
state, so ``rgb_array`` works without a display; only the human window uses pyplot.
"""

from __future__ import annotations

import warnings

import numpy as np
from matplotlib.backends import BackendFilter, backend_registry
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


class RenderModeError(ValueError, TypeError):
    """An unsupported ``render_mode``.

    Also a ``TypeError``: helpers that try ``render_mode="rgb_array"`` first and fall back to no
    render mode on a ``TypeError`` (Stable-Baselines3's ``make_vec_env``) then make the env.
    """


def check_render_mode(render_mode: str | None, modes) -> str | None:
    """``render_mode`` if it is None or one of ``modes``; otherwise a RenderModeError naming both."""
    if render_mode is not None and render_mode not in modes:
        raise RenderModeError(f"render_mode must be one of {list(modes)} or None, got {render_mode!r}")
    return render_mode


def new_figure(width_px: int, height_px: int, dpi: int = 100) -> Figure:
    """A matplotlib Figure of ``width_px`` x ``height_px`` pixels on the Agg canvas (no display needed)."""
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def figure_to_rgb(figure: Figure) -> np.ndarray:
    """The drawn ``figure`` as a (height, width, 3) uint8 array."""
    canvas = figure.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class HumanWindow:
    """A pyplot window showing RGB frames, for ``render_mode="human"``.

    Opens on the first frame. Where no display exists, pyplot's backend is non-interactive (Agg):
    then nothing is shown, one warning says so, and frames are not waited for.
    """

    def __init__(self, title: str, fps: float):
        self.title, self.pause = title, 1.0 / fps
        self._figure = self._image = None
        self._headless = None  # known at the first frame

    def show(self, frame: np.ndarray) -> None:
        import matplotlib.pyplot as plt  # deferred: pyplot picks a GUI backend, needed only for human mode

        if self._headless is None:
            self._headless = plt.get_backend().lower() in backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
            if self._headless:
                warnings.warn(
                    f"render_mode='human': matplotlib's backend {plt.get_backend()!r} has no window "
                    "(no display?); nothing is shown. render_mode='rgb_array' returns the frames.",
                    stacklevel=3,
                )
        if self._headless:
            return

        if self._figure is None or not plt.fignum_exists(self._figure.number):
            self._figure = plt.figure(self.title, figsize=(frame.shape[1] / 100, frame.shape[0] / 100))
            axes = self._figure.add_axes((0, 0, 1, 1))
            axes.set_axis_off()
            self._image = axes.imshow(frame)
        else:
            self._image.set_data(frame)
        plt.pause(self.pause)

    def close(self) -> None:
        if self._figure is not None:
            import matplotlib.pyplot as plt  # deferred, as in show

            plt.close(self._figure)
            self._figure = self._image = None
