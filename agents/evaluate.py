"""``edge-envs evaluate``: run a trained checkpoint (and, optionally, baselines) for N episodes.

Episodes are seeded ``seed, seed + 1, ...`` so every policy in a table meets the same instances.
Returns are reported with a 95% confidence interval (normal approximation, 1.96 standard errors),
and the info metrics the env reports (delay, penalty, energy) are summed per episode.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from agents.checkpoint import load_checkpoint
from agents.envs import Episode, EpisodeTally, env_spaces, make_env
from agents.policy import policy_from_payload


def run_episodes(policy, env, episodes: int, seed: int = 0) -> list[Episode]:
    """Play ``episodes`` episodes of ``policy`` on ``env`` (Gymnasium, or PettingZoo parallel: one record per agent)."""
    records = []
    for index in range(episodes):
        if hasattr(policy, "reset"):
            policy.reset(seed=seed + index)
        obs, infos = env.reset(seed=seed + index)
        if hasattr(env, "possible_agents"):
            agents = list(env.possible_agents)
            tally = EpisodeTally(len(agents))
            while env.agents:  # only the live agents act (those that ended wait for the others)
                live = {a: obs[a] for a in env.agents}
                obs, rewards, terms, truncs, infos = env.step(policy.act(live, {a: infos.get(a, {}) for a in live}))
                for i, agent in enumerate(agents):
                    if agent in rewards:
                        tally.add(i, float(rewards[agent]), infos.get(agent, {}))
            records += [tally.close(i) for i in range(len(agents))]
            continue
        tally, done = EpisodeTally(1), False
        while not done:
            obs, reward, terminated, truncated, infos = env.step(policy.act(obs, infos))
            tally.add(0, float(reward), infos)
            done = terminated or truncated
        records.append(tally.close(0))
    return records


def summarize(episodes: list[Episode]) -> dict:
    """Mean return, its 95% half-width, mean length and the mean of each per-episode metric."""
    returns = np.array([e.episode_return for e in episodes])
    half_width = 1.96 * returns.std(ddof=1) / np.sqrt(len(returns)) if len(returns) > 1 else float("nan")
    summary = {"episodes": len(episodes), "return": float(returns.mean()), "return_ci95": float(half_width), "length": float(np.mean([e.length for e in episodes]))}
    for key in sorted({k for e in episodes for k in e.metrics}):
        summary[key] = float(np.mean([e.metrics.get(key, np.nan) for e in episodes]))
    return summary


def format_table(rows: dict[str, list[Episode]]) -> str:
    """A Markdown table of ``summarize`` for each named policy."""
    summaries = {name: summarize(episodes) for name, episodes in rows.items()}
    metrics = sorted({k for s in summaries.values() for k in s} - {"episodes", "return", "return_ci95", "length"})
    header = ["policy", "episodes", "return (95% CI)", *[f"{m} / episode" for m in metrics]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in summaries.items():
        cells = [name, str(s["episodes"]), f"{s['return']:.4g} ± {s['return_ci95']:.2g}", *[f"{s.get(m, float('nan')):.4g}" for m in metrics]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare(policy, env_id: str, env_kwargs: dict | None, episodes: int, seed: int, baseline_names=(), label: str = "agent") -> dict[str, list[Episode]]:
    """Episodes of ``policy`` and of each named baseline on the same seeded instances."""
    rows = {label: run_episodes(policy, make_env(env_id, env_kwargs), episodes, seed)}
    if baseline_names:
        import baselines

        for name in baseline_names:
            env = make_env(env_id, env_kwargs)
            rows[name] = run_episodes(baselines.make_policy(name, env), env, episodes, seed)
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by `edge-envs train`")
    parser.add_argument("--env", required=True, help="Gymnasium id or PettingZoo module (e.g. EdgePartition-v0)")
    parser.add_argument("--episodes", type=int, default=10, help="evaluation episodes (default 10)")
    parser.add_argument("--env-kwargs", default=None, help="JSON keyword arguments of the env (default: the checkpoint's, for the same env id)")
    parser.add_argument("--seed", type=int, default=10_000, help="seed of the first episode (default 10000)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of taking the most likely one")
    parser.add_argument("--baselines", default="", help="comma-separated baseline names to compare against, or 'all'")


def baseline_names(spec: str, env_id: str) -> list[str]:
    """Baseline names from a comma-separated list ('all': every baseline of the env)."""
    if not spec:
        return []
    import baselines

    if spec == "all":
        return baselines.available(env_id)
    return [name.strip() for name in spec.split(",") if name.strip()]


def run(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        raise SystemExit(f"--episodes must be >= 1, got {args.episodes}")
    payload = load_checkpoint(args.checkpoint)
    if args.env_kwargs is not None:
        env_kwargs = json.loads(args.env_kwargs)
    else:
        env_kwargs = json.loads(payload["env_kwargs"]) if args.env == payload["env_id"] else {}
    env = make_env(args.env, env_kwargs)
    obs_dim, nvec = env_spaces(env)
    if obs_dim != payload["obs_dim"] or list(nvec) != list(payload["nvec"]):
        raise SystemExit(
            f"checkpoint was trained on observations of length {payload['obs_dim']} and actions {payload['nvec']}; "
            f"{args.env} with {env_kwargs} has {obs_dim} and {list(nvec)}"
        )
    policy = policy_from_payload(payload, env, deterministic=not args.stochastic)
    label = f"{payload['algo']} ({payload['steps']} steps)"
    rows = compare(policy, args.env, env_kwargs, args.episodes, args.seed, baseline_names(args.baselines, args.env), label)
    print(format_table(rows))
    return 0
