"""Pictures of ServiceMigration-v0 for ``render_mode="rgb_array"`` (and ``"human"``), drawn with matplotlib.

The area with its edges (squares, labelled with their index and capability), the edge server (a star),
the devices (dots), each modality's sub-model on its edge (a coloured label) and the last round's
migrations (arrows from the old edge to the new one). Off-screen figures draw on an Agg canvas.
"""

from __future__ import annotations

import numpy as np

from edge_envs.render import figure_to_rgb

MODALITY_COLOURS = ("tab:red", "tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:brown", "tab:pink")
SIZE_PX = (400, 400)  # width, height


def picture(figure, state, last, previous_edges) -> np.ndarray:
    """Draw ``state`` (and the round ``last`` that led to it) on ``figure``; the canvas as uint8 (H, W, 3)."""
    cfg = state.cfg
    figure.clear()
    ax = figure.add_axes((0.02, 0.02, 0.96, 0.9))
    side = cfg.area_m
    ax.set_xlim(0, side)
    ax.set_ylim(0, side)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    edges = cfg.edge_positions
    ax.scatter(*state.device_positions.T, s=6, c="0.55", label="devices")
    ax.scatter(*cfg.server_position, marker="*", s=160, c="k", label="server")
    shade = np.clip(state.capability / (2.0 * cfg.capability_mean_hz), 0.0, 1.0)
    ax.scatter(*edges.T, marker="s", s=220, c=shade, cmap="Greys", vmin=0.0, vmax=1.0, edgecolors="k")
    for n, (x, y) in enumerate(edges):
        ax.annotate(
            f"{n}: {state.capability[n] / 1e6:.2g} MHz",
            (x, y),
            xytext=(0, -16),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    for k, modality in enumerate(cfg.modalities):
        colour = MODALITY_COLOURS[k % len(MODALITY_COLOURS)]
        x, y = edges[state.edges[k]]
        ax.annotate(
            modality.name,
            (x, y),
            xytext=(0, 10 + 9 * (k % 2)),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=colour,
            fontweight="bold",
        )
        if previous_edges is not None and previous_edges[k] != state.edges[k]:
            x0, y0 = edges[previous_edges[k]]
            ax.annotate("", (x, y), (x0, y0), arrowprops=dict(arrowstyle="->", color=colour, lw=2))
    title = f"round {state.round}   wall-clock {state.wall_clock:.4g} s"
    if last is not None:
        title += f"   rho {last.rho:.3g}   round {last.round_time:.3g} s"
    figure.suptitle(title, fontsize=9)
    figure.canvas.draw()
    return figure_to_rgb(figure)
