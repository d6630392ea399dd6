"""Pictures of an EdgePartition state (``render_mode="rgb_array"`` / ``"human"``), with matplotlib.

Left: the area with the edge servers (their coverage disc and a bar of their queued work), the
device(s) and their wireless links (thin grey), and the path of the last slot's tasks: thick in the
server's colour over the air (through the associated server when the server is out of coverage),
dashed between servers over the wired link. Right: where each block of the last slot ran, one row
per device.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import Circle, Rectangle

from edge_envs.edge_partition.core import DEVICE, State
from edge_envs.render import figure_to_rgb, new_figure

WIDTH_PX, HEIGHT_PX = 720, 400
DEVICE_COLOUR = "0.55"


def server_colour(n: int) -> tuple:
    """Colour of edge server n (1-based), as in the placement grid."""
    return to_rgb(f"C{(n - 1) % 10}")


def direct_links(state: State, a: int) -> tuple[np.ndarray, int]:
    """((N,) bool, n): the servers device ``a`` reaches over the air (in coverage, or its associated
    nearest server n), as the core's radio model (``_device_links``) connects them."""
    squared = ((state.server_xy[0] - state.position[0, a]) ** 2).sum(axis=1)
    nearest = int(np.argmin(np.maximum(squared, 1.0)))
    if state.fixed_airtime[0, a, 0] > 0.0:  # fixed rates: every server directly
        return np.ones(state.queue.shape[1], dtype=bool), nearest
    direct = squared <= state.cfg.coverage_m**2
    direct[nearest] = True
    return direct, nearest


def _hops(placement_row: np.ndarray) -> list[tuple[int, int]]:
    """(from, to) locations the data of one task crosses: block by block, from the device (the raw
    image) and back to it (the result)."""
    path = [DEVICE, *(int(x) for x in placement_row), DEVICE]
    return [(i, j) for i, j in zip(path, path[1:]) if i != j]


def draw(state: State, placement: np.ndarray | None, title: str = "") -> np.ndarray:
    """The picture of row 0 of ``state`` as a (HEIGHT_PX, WIDTH_PX, 3) uint8 array; ``placement``
    (A, M): the last slot's locations per device (None before the first step)."""
    cfg = state.cfg
    N, A, M = cfg.num_servers, state.num_devices, cfg.num_blocks
    figure = new_figure(WIDTH_PX, HEIGHT_PX)
    area = figure.add_axes((0.01, 0.04, 0.52, 0.86))
    grid = figure.add_axes((0.60, 0.30, 0.38, 0.50))
    radio = state.fixed_airtime[0, 0, 0] == 0.0
    points = np.concatenate([state.server_xy[0], state.position[0]])
    low = np.minimum(points.min(axis=0), 0.0) if radio else points.min(axis=0)
    high = np.maximum(points.max(axis=0), cfg.area_m) if radio else points.max(axis=0)
    span = float(max((high - low).max(), 1.0))
    pad = 0.12 * span
    area.set_xlim(low[0] - pad, low[0] + span + pad)
    area.set_ylim(low[1] - pad, low[1] + span + pad)
    area.set_aspect("equal")
    area.set_xticks([]), area.set_yticks([])
    if radio:
        area.add_patch(Rectangle(tuple(low), *(high - low), fill=False, linestyle=":", edgecolor="0.6"))
    servers = state.server_xy[0]
    for a in range(A):  # links first, under the markers
        device = state.position[0, a]
        direct, nearest = direct_links(state, a)
        for n in np.flatnonzero(direct):
            area.plot(*zip(device, servers[n]), color="0.7", linewidth=0.8, zorder=1)
        for i, j in [] if placement is None else _hops(np.asarray(placement).reshape(A, M)[a]):
            server = max(i, j) - 1
            if i != DEVICE and j != DEVICE:  # server to server: the wired link
                area.plot(*zip(servers[i - 1], servers[j - 1]), color="k", linestyle="--", linewidth=1.2, zorder=2)
            elif direct[server]:
                area.plot(*zip(device, servers[server]), color=server_colour(server + 1), linewidth=2.5, zorder=2)
            else:  # through the associated server, then the wired link
                area.plot(*zip(device, servers[nearest]), color=server_colour(server + 1), linewidth=2.5, zorder=2)
                area.plot(*zip(servers[nearest], servers[server]), color="k", linestyle="--", linewidth=1.2, zorder=2)
    bar_w, bar_h = 0.035 * span, 0.16 * span
    for n in range(N):
        x, y = state.server_xy[0, n]
        colour = server_colour(n + 1)
        if radio:
            area.add_patch(Circle((x, y), cfg.coverage_m, color=colour, alpha=0.07, zorder=0))
        area.plot(x, y, marker="s", markersize=11, color=colour, markeredgecolor="k", zorder=3)
        area.annotate(f"S{n + 1}", (x, y), xytext=(-6, -16), textcoords="offset points", fontsize=8)
        backlog = state.queue[0, n] / cfg.slot_s
        fill = backlog / (1.0 + backlog)  # as the observation squashes it
        area.add_patch(Rectangle((x + 0.03 * span, y), bar_w, bar_h, fill=False, edgecolor="k", zorder=3))
        area.add_patch(Rectangle((x + 0.03 * span, y), bar_w, bar_h * fill, color=colour, zorder=3))
        area.annotate(
            f"{state.queue[0, n]:.2f} s",
            (x + 0.03 * span, y + bar_h),
            xytext=(0, 2),
            textcoords="offset points",
            fontsize=7,
        )
    for a in range(A):
        x, y = state.position[0, a]
        area.plot(x, y, marker="o", markersize=9, color="k", zorder=4)
        area.annotate(
            "device" if A == 1 else f"D{a}",
            (x, y),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
            weight="bold",
        )
    area.set_title(title or f"slot {int(state.slot[0])} / {cfg.episode_slots}", fontsize=10)
    colours = np.ones((A, M, 3))
    if placement is not None:
        placement = np.asarray(placement).reshape(A, M)
        for a in range(A):
            for m in range(M):
                where = int(placement[a, m])
                colours[a, m] = to_rgb(DEVICE_COLOUR) if where == DEVICE else server_colour(where)
                grid.text(m, a, "D" if where == DEVICE else f"S{where}", ha="center", va="center", fontsize=8)
    grid.imshow(colours, aspect="auto")
    grid.set_xticks(range(M), [str(m + 1) for m in range(M)], fontsize=8)
    grid.set_yticks(range(A), ["device"] if A == 1 else [f"D{a}" for a in range(A)], fontsize=8)
    grid.set_xlabel("block", fontsize=8)
    grid.set_title("where each block ran" if placement is not None else "no placement yet", fontsize=10)
    energy = ", ".join("inf" if np.isinf(e) else f"{e:.0f}" for e in state.energy_left[0])
    figure.text(0.60, 0.14, f"energy left (J): {energy}", fontsize=8)
    figure.text(0.60, 0.08, "path of the tasks: thick = over the air, dashed = wired", fontsize=7)
    figure.text(0.60, 0.03, "bars: queued work of each server (s to drain)", fontsize=7)
    return figure_to_rgb(figure)
