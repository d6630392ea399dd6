"""The render-mode check shared by every env of the suite."""

from __future__ import annotations


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
