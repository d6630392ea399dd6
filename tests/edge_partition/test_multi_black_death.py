"""edge_partition_multi_v0's ``black_death=True`` (issue 27, item 3): an agent whose energy is spent stays
to the end with zero rewards, so every agent is truncated together, as SuperSuit's and TorchRL's wrappers
need; the default still lets it leave."""

import numpy as np
import pytest

from edge_envs import edge_partition_multi_v0

SMALL_BUDGET = dict(episode_slots=6, energy_budget_j=0.05, models=("alexnet", "vgg16"))


def _local(env):
    return {agent: np.zeros(env.action_space(agent).shape, dtype=np.int64) for agent in env.agents}


def test_black_death__spent_agents_stay_with_zero_rewards_until_all_are_truncated():
    plain = edge_partition_multi_v0.parallel_env(**SMALL_BUDGET)
    kept = edge_partition_multi_v0.parallel_env(black_death=True, **SMALL_BUDGET)
    plain.reset(seed=0)
    kept.reset(seed=0)
    _, first, terms, _, _ = plain.step(_local(plain))  # computing locally spends the tiny budget at once
    assert any(terms.values()) and len(plain.agents) < 2  # the default: a spent agent leaves
    _, kept_first, kept_terms, truncs, infos = kept.step(_local(kept))
    assert kept_first == first and not any(kept_terms.values()) and kept.agents == kept.possible_agents
    spent = [agent for agent, done in terms.items() if done]
    for slot in range(2, 7):
        _, rewards, kept_terms, truncs, infos = kept.step(_local(kept))
        assert all(rewards[agent] == 0.0 and infos[agent]["energy_left"] <= 0.0 for agent in spent)
        assert not any(kept_terms.values()) and all(truncs.values()) == (slot == 6)
    assert kept.agents == []


def test_black_death__must_be_a_boolean():
    with pytest.raises(ValueError, match="black_death must be True or False"):
        edge_partition_multi_v0.parallel_env(black_death="yes")
