"""The committed agents (benchmarks/leaderboard/agents/) play their recorded episodes again, action for action.

Each agent's result file holds the actions its checkpoint took. Here the checkpoint is loaded as the
leaderboard's worker loads it and played on the same episodes; every action must come back bit for bit,
so a change to the envs, the observation encoding or the policies' code that would move a ranked agent
shows up here, not as a silent drift. The agents act through matrix products (numpy's for mtl-a3c,
torch's for the PPO variants) whose CPU kernels round differently on different CPUs; none of the
recorded decisions sits close enough to a tie to flip under ATEN_CPU_CAPABILITY=default or avx2, nor
with MKL_CBWR=COMPATIBLE and OPENBLAS_CORETYPE=Sandybridge (which pick other BLAS kernels). CI reruns
it under the first two (marker ``numerics``); a flip on another CPU would say which decision it was.
"""

import importlib.util

import pytest

from benchmarks.leaderboard.play import play_episode
from benchmarks.leaderboard.policies import load_policy
from benchmarks.leaderboard.populate import ROOT
from benchmarks.leaderboard.results import RESULTS_DIR, decode_actions, encode_actions, read_result, result_files
from benchmarks.leaderboard.scenarios import make_env, scenario_set
from tests.helpers import same

HAS_RAY = importlib.util.find_spec("ray") is not None


def _agent_results() -> list:
    cases = []
    for path in result_files(ROOT / RESULTS_DIR):
        result = read_result(path)
        if result["kind"] != "agent":
            continue
        needs_ray = result["policy"].startswith("rllib:")
        skip = pytest.mark.skipif(needs_ray and not HAS_RAY, reason="rllib modules need the [ray] extra")
        cases.append(pytest.param(path, id=path.stem, marks=skip))
    return cases


@pytest.mark.slow
@pytest.mark.numerics
@pytest.mark.parametrize("path", _agent_results())
def test_agents__committed_checkpoints_replay_their_recorded_actions_bit_for_bit(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the specs name the checkpoints relative to the repository root
    result = read_result(path)
    scenarios = scenario_set(result["env"])
    played = {}  # instance name -> (env, policy), built as the leaderboard's worker builds them
    for index, episode in enumerate(result["episodes"]):
        instance = scenarios.instance(episode["instance"])
        if instance.name not in played:
            env = make_env(scenarios, instance)
            env.reset(seed=instance.seeds[0])
            played[instance.name] = env, load_policy(result["policy"], env)
        env, policy = played[instance.name]
        if callable(getattr(policy, "reset", None)):
            policy.reset(seed=episode["seed"])
        actions = play_episode(env, episode["seed"], policy.act, scenarios.metrics)["actions"]
        recorded = decode_actions(episode["actions"])
        again = decode_actions(encode_actions(actions))  # the types the file holds (e.g. lists for tuples)
        flips = [step for step, (a, b) in enumerate(zip(again, recorded)) if not same(a, b)]
        assert len(again) == len(recorded) and not flips, (
            f"episode {index} ({instance.name}, seed {episode['seed']}): {len(again)} actions played, "
            f"{len(recorded)} recorded; first differing steps {flips[:5]}"
        )
    for env, _ in played.values():
        env.close()
