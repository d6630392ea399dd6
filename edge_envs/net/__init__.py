"""Radio link model shared by every env: channel (path loss, fading, rate), topology, mobility."""

from edge_envs.net import channel, mobility, topology

__all__ = ["channel", "mobility", "topology"]
