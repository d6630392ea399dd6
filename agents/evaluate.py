"""The evaluation harness of the CLI and the benchmarks, and ``edge-envs evaluate``.

Episodes are seeded ``seed, seed + 1, ...`` so every policy in a table meets the same instances;
held-out evaluations start at ``EVAL_SEED`` (training never resets an env with seeds there).
Returns are reported with a 95% confidence interval (Student's t over the episodes), and the
info metrics the env reports (delay, penalty, energy) are summed per episode. Tables also hold the
env's references (``baselines.references``: bounds or exact optima of the same episodes) and each
row's gap to the first of them. ``BASELINE_LABELS`` names the baselines in every table; names with
one label are one policy (shown once).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import scipy.stats
from tqdm import tqdm

import baselines
import edge_envs
from agents import generalist
from agents.checkpoint import load_checkpoint
from agents.envs import Episode, EpisodeTally, env_spaces, make_env, parse_env_kwargs
from agents.policy import policy_from_payload
from agents.runs import CHECKPOINT, latest_run
from edge_envs.edge_partition.distribution import HELD_OUT, InstanceDistribution

EVAL_SEED = 10_000
"""Seed of the first held-out evaluation episode (then EVAL_SEED + 1, ...)."""

BASELINE_LABELS = {
    "random": "random (RPDI)",
    "rpdi": "random (RPDI)",
    "apdi": "APDI",
    "lpt": "LPT",
    "chain-dp": "chain DP (ignores own load)",
}
"""Baseline name -> how tables show it (names not listed show as themselves)."""


def display_name(name: str) -> str:
    """How a table shows baseline ``name``."""
    return BASELINE_LABELS.get(name, name)


def t_quantile_975(df: int) -> float:
    """t_{0.975, df}, the two-sided 95% quantile of Student's t with ``df`` degrees of freedom (scipy)."""
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    return float(scipy.stats.t.ppf(0.975, df))


def mean_ci95(values) -> tuple[float, float]:
    """Mean and half-width of its 95% confidence interval (Student's t; 0 width for a single value,
    which ``format_mean_ci`` shows as no interval)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("mean_ci95 needs at least one value")
    if x.size == 1:
        return float(x[0]), 0.0
    return float(x.mean()), t_quantile_975(x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)


def format_mean_ci(mean: float, half_width: float, count: int) -> str:
    """``mean ± half-width``, or the mean alone with a note when one value gives no interval."""
    return f"{mean:.4g} ± {half_width:.2g}" if count > 1 else f"{mean:.4g} (1 episode, no CI)"


def run_episodes(policy, env, episodes: int, seed: int = EVAL_SEED, bar=None) -> list[Episode]:
    """Play ``episodes`` episodes of ``policy`` on ``env`` (Gymnasium, or PettingZoo parallel: one
    record per agent); ``bar`` (a tqdm bar) advances once per episode."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes!r}")
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
        else:
            tally, done = EpisodeTally(1), False
            while not done:
                obs, reward, terminated, truncated, infos = env.step(policy.act(obs, infos))
                tally.add(0, float(reward), infos)
                done = terminated or truncated
            records.append(tally.close(0))
        if bar is not None:
            bar.update(1)
    return records


def summarize(episodes: list[Episode]) -> dict:
    """Mean return, its 95% half-width, mean length and the mean of each per-episode metric."""
    mean, half_width = mean_ci95([e.episode_return for e in episodes])
    summary = {
        "episodes": len(episodes),
        "return": mean,
        "return_ci95": half_width,
        "length": float(np.mean([e.length for e in episodes])),
    }
    for key in sorted({k for e in episodes for k in e.metrics}):
        summary[key] = float(np.mean([e.metrics.get(key, np.nan) for e in episodes]))
    return summary


def reference_rows(env_id: str, env_kwargs: dict | None, episodes: int, seed: int) -> dict[str, list[Episode]]:
    """The env's references (``baselines.references``) on episodes ``seed, seed + 1, ...``, as rows
    named ``"<name> (reference)"`` (episodes of length 0: a reference is a value, not a play)."""
    try:
        found = baselines.references(env_id)
    except ValueError:  # an env without baselines has no references either
        return {}
    env = make_env(env_id, env_kwargs)
    return {
        f"{name} (reference)": [Episode(float(reference(env, seed + i)), 0) for i in range(episodes)]
        for name, reference in found.items()
    }


def gap_percent(mean_return: float, reference_return: float) -> float:
    """How much worse than the reference, in percent of its magnitude (0: as good, > 0: worse)."""
    return 100.0 * (reference_return - mean_return) / abs(reference_return) if reference_return else float("nan")


def format_table(rows: dict[str, list[Episode]], reference: str | None = None) -> str:
    """A Markdown table of ``summarize`` for each named policy; with ``reference`` (a row's name) a
    column of each row's ``gap_percent`` to that row's mean return."""
    summaries = {name: summarize(episodes) for name, episodes in rows.items()}
    metrics = sorted({k for s in summaries.values() for k in s} - {"episodes", "return", "return_ci95", "length"})
    gap = [f"gap to {reference}"] if reference else []
    header = ["policy", "episodes", "return (95% CI)", *gap, *[f"{m} / episode" for m in metrics]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in summaries.items():
        cells = [
            display_name(name),
            str(s["episodes"]),
            format_mean_ci(s["return"], s["return_ci95"], s["episodes"]),
            *([f"{gap_percent(s['return'], summaries[reference]['return']):+.2f}%"] if reference else []),
            *[f"{s.get(m, float('nan')):.4g}" for m in metrics],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def baseline_names(spec: str, env_id: str) -> list[str]:
    """Baseline names from a comma-separated list, checked against the env's ('all': every baseline
    of the env, one name per label; 'strongest': ``baselines.strongest``; none for an env without
    baselines)."""
    if not spec:
        return []
    try:
        known = baselines.available(env_id)
    except ValueError:
        if spec in ("all", "strongest"):
            return []
        raise ValueError(f"--baselines: {env_id} has no baselines") from None
    if spec == "all":
        firsts = {}
        for name in known:
            firsts.setdefault(display_name(name), name)
        return list(firsts.values())
    if spec == "strongest":
        return baselines.strongest(env_id)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"--baselines: unknown baseline(s) {unknown} for {env_id}; available: {known}, 'all' or 'strongest'"
        )
    return names


def compare(
    policy,
    env_id: str,
    env_kwargs: dict | None,
    episodes: int,
    seed: int,
    baseline_names=(),
    label: str = "agent",
    progress: bool = False,
    references: bool = True,
) -> dict[str, list[Episode]]:
    """Episodes of ``policy`` and of each named baseline on the same seeded instances (a progress
    bar over all of them when ``progress``), then the env's references (``reference_rows``) when
    ``references``."""
    players = [label, *baseline_names]
    with tqdm(total=episodes * len(players), unit="episode", disable=not progress, desc="evaluation") as bar:
        rows = {}
        for name in players:
            env = make_env(env_id, env_kwargs)
            bar.set_postfix_str(name)
            player = (
                baselines.make_policy(name, env)
                if name != label
                else policy.on(env)
                if hasattr(policy, "on")
                else policy
            )
            rows[name] = run_episodes(player, env, episodes, seed, bar)
    return rows | (reference_rows(env_id, env_kwargs, episodes, seed) if references else {})


def print_comparison(rows: dict[str, list[Episode]]) -> None:
    """``format_table`` of ``compare``'s rows, with gaps to the first reference when there is one."""
    print(format_table(rows, next((name for name in rows if name.endswith(" (reference)")), None)))


def env_help() -> str:
    """``--env``'s help: the project's env ids listed."""
    return (
        f"env: one of {', '.join([*edge_envs.ENV_IDS, *edge_envs.PETTINGZOO_MODULES])}, or any registered Gymnasium id"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", help="checkpoint file written by `edge-envs train`")
    which.add_argument("--run", metavar="DIR", help="a run folder of `edge-envs train` (its checkpoint.pt)")
    which.add_argument(
        "--latest",
        metavar="LOGDIR",
        help="the newest run of --env under LOGDIR (the --logdir of `edge-envs train`, e.g. runs)",
    )
    parser.add_argument("--env", required=True, help=env_help())
    parser.add_argument("--episodes", type=int, default=10, help="evaluation episodes (default 10)")
    parser.add_argument(
        "--env-kwargs",
        default=None,
        help="JSON object of env config fields (default: the checkpoint's, for the same env id; a generalist "
        "checkpoint without it is evaluated on its training distribution and the held-out scenarios)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=EVAL_SEED,
        help=f"seed of the first episode (default {EVAL_SEED}, the held-out seeds)",
    )
    parser.add_argument(
        "--stochastic", action="store_true", help="sample actions instead of taking the most likely one"
    )
    parser.add_argument(
        "--baselines",
        default="strongest",
        help="baselines to compare against: comma-separated names, 'all', 'strongest' (default: the env's "
        "strongest, e.g. exact-slot, ga, pso, greedy) or '' (none); the env's references (bounds) are always shown",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def checkpoint_path(args: argparse.Namespace) -> Path:
    """The checkpoint that ``--checkpoint``, ``--run`` or ``--latest`` names."""
    if args.checkpoint is not None:
        return Path(args.checkpoint)
    run_dir = Path(args.run) if args.run is not None else latest_run(args.latest, args.env, flag="--latest")
    if not (run_dir / CHECKPOINT).is_file():
        raise FileNotFoundError(f"--run: {run_dir} holds no {CHECKPOINT} (a run folder of `edge-envs train`)")
    return run_dir / CHECKPOINT


def run(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    names = baseline_names(args.baselines, args.env)
    payload = load_checkpoint(checkpoint_path(args))
    if payload["algo"] == generalist.GENERALIST and args.env_kwargs is None:  # its distribution and the held-out
        training = parse_env_kwargs(payload["env_kwargs"], "the checkpoint's env kwargs")
        policy = policy_from_payload(payload)
        print_held_out(
            policy, training, args.episodes, names, args.seed, progress=not args.no_progress, env_id=payload["env_id"]
        )
        return 0
    if args.env_kwargs is not None:
        env_kwargs = parse_env_kwargs(args.env_kwargs)
    else:
        env_kwargs = (
            parse_env_kwargs(payload["env_kwargs"], "the checkpoint's env kwargs")
            if args.env == payload["env_id"]
            else {}
        )
    env = make_env(args.env, env_kwargs)
    obs_dim, nvec = env_spaces(env, continuous=True)
    any_size = payload["algo"] == generalist.GENERALIST  # its parameters depend on neither M nor N
    if not any_size and (obs_dim != payload["obs_dim"] or list(nvec) != list(payload["nvec"])):
        raise ValueError(
            f"--checkpoint was trained on observations of length {payload['obs_dim']} and actions {payload['nvec']}; "
            f"--env {args.env} with {env_kwargs} has {obs_dim} and {list(nvec)}"
        )
    policy = policy_from_payload(payload, env, deterministic=not args.stochastic)
    label_ = f"{payload['algo']} ({payload['steps']} steps)"
    rows = compare(policy, args.env, env_kwargs, args.episodes, args.seed, names, label_, progress=not args.no_progress)
    print_comparison(rows)
    return 0


# ------------------------------------------------------------------------------------------------
# generalisation: a generalist (agents.generalist) on its training distribution and on held-out scenarios


class Timed:
    """A policy whose ``act`` calls are timed (``seconds``, ``decisions``): the decision time of a table."""

    def __init__(self, policy):
        self.policy, self.seconds, self.decisions = policy, 0.0, 0

    def reset(self, seed: int | None = None) -> None:
        if hasattr(self.policy, "reset"):
            self.policy.reset(seed=seed)

    def act(self, observation, info=None):
        start = time.perf_counter()
        action = self.policy.act(observation, info)
        self.seconds += time.perf_counter() - start
        self.decisions += 1
        return action

    @property
    def ms_per_decision(self) -> float:
        return 1e3 * self.seconds / max(1, self.decisions)


def evaluation_scenarios(
    distribution: InstanceDistribution, draws: int, seed: int = EVAL_SEED, held_out: dict = HELD_OUT
) -> dict:
    """name -> (split, gym.make keywords): ``draws`` instances drawn from the training ``distribution``
    (``train-0``, ...) and every held-out scenario (``held_out``: EdgePartition's ``HELD_OUT`` by default)."""
    rng = np.random.default_rng(seed)
    scenarios = {f"train-{i}": ("train", distribution.sample_kwargs(rng)) for i in range(draws)}
    return scenarios | {name: ("held-out", dict(kwargs)) for name, kwargs in held_out.items()}


def held_out_rows(
    policy,
    distribution,
    episodes: int,
    names=(),
    seed: int = EVAL_SEED,
    progress: bool = False,
    env_id: str = generalist.ENV_ID,
):
    """Per scenario of ``evaluation_scenarios`` (``episodes`` draws of the training distribution, one episode
    each; every held-out scenario of ``env_id``'s generalist, ``episodes`` episodes): the mean return and ms per
    decision of ``policy`` and of each baseline in ``names``, and the env's reference (its bound on the return)."""
    rows = []
    held_out = generalist.held_out_of(env_id)[1]
    for scenario, (split, kwargs) in tqdm(
        evaluation_scenarios(distribution, episodes, seed, held_out).items(), disable=not progress, desc="scenarios"
    ):
        count = 1 if split == "train" else episodes
        row = {"scenario": scenario, "split": split, "kwargs": kwargs, "episodes": count}
        for name in (generalist.GENERALIST, *names):
            env = make_env(env_id, kwargs)
            player = Timed(policy.on(env) if name == generalist.GENERALIST else baselines.make_policy(name, env))
            returns = [e.episode_return for e in run_episodes(player, env, count, seed)]
            row[name] = {"return": float(np.mean(returns)), "ms": player.ms_per_decision}
        for name, episodes_ in reference_rows(env_id, kwargs, count, seed).items():
            row[name] = {"return": float(np.mean([e.episode_return for e in episodes_]))}
        rows.append(row)
    return rows


def format_held_out(rows: list[dict]) -> str:
    """A Markdown table of ``held_out_rows``: per scenario each policy's mean return (ms per decision) and
    the generalist's gap to exact-slot (EdgePartition), sm3fl (ServiceMigration) or exact-order (EdgeUpload) when
    it is in the rows."""
    names = [key for key in rows[0] if isinstance(rows[0][key], dict) and key != "kwargs"]
    gap = next((name for name in ("exact-slot", "sm3fl", "exact-order") if name in names), None)
    header = ["scenario", "split", *names, *([f"generalist gap to {gap}"] if gap else [])]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{row[n]['return']:.4g}" + (f" ({row[n]['ms']:.2f} ms)" if "ms" in row[n] else "") for n in names]
        if gap:
            cells.append(f"{gap_percent(row[generalist.GENERALIST]['return'], row[gap]['return']):+.2f}%")
        lines.append("| " + " | ".join([row["scenario"], row["split"], *cells]) + " |")
    return "\n".join(lines)


def print_held_out(
    policy,
    env_kwargs: dict | None,
    episodes: int,
    names=(),
    seed: int = EVAL_SEED,
    progress: bool = False,
    env_id: str = generalist.ENV_ID,
) -> None:
    """``format_held_out`` of the policy on its training distribution (from ``env_kwargs``) and the held-out
    scenarios of ``env_id``: what ``edge-envs train`` and ``edge-envs evaluate`` print for a generalist."""
    distribution = generalist.held_out_of(env_id)[0](env_kwargs)
    print(format_held_out(held_out_rows(policy, distribution, episodes, names, seed, progress, env_id)))
