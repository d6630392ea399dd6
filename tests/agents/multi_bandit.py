"""Two agents, each facing its own contextual bandit, as a PettingZoo parallel env module.

``stagger`` lengthens device_1's episodes by that many slots, so device_0 ends first and waits.
"""

from pettingzoo import ParallelEnv

from tests.agents.bandit import ContextualBandit


class _MultiBandit(ParallelEnv):
    metadata = {"name": "multi_bandit_v0"}

    def __init__(self, contexts: int = 2, blocks: int = 3, choices: int = 3, length: int = 8, stagger: int = 0):
        self.possible_agents = ["device_0", "device_1"]
        self.bandits = {
            a: ContextualBandit(contexts, blocks, choices, length + i * stagger)
            for i, a in enumerate(self.possible_agents)
        }
        self.agents = []

    def observation_space(self, agent):
        return self.bandits[agent].observation_space

    def action_space(self, agent):
        return self.bandits[agent].action_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        seeds = [None, None] if seed is None else [seed, seed + 1]
        obs = {a: self.bandits[a].reset(seed=s)[0] for a, s in zip(self.agents, seeds)}
        return obs, {a: {} for a in self.agents}

    def step(self, actions):
        if set(actions) != set(self.agents):
            raise ValueError(f"actions for {sorted(actions)}, but the live agents are {self.agents}")
        out = {a: self.bandits[a].step(actions[a]) for a in self.agents}
        obs, rewards, terms, truncs, infos = ({a: out[a][i] for a in self.agents} for i in range(5))
        self.agents = [a for a in self.agents if not (terms[a] or truncs[a])]
        return obs, rewards, terms, truncs, infos


def parallel_env(**kwargs):
    return _MultiBandit(**kwargs)
