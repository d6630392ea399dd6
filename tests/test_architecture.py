"""What docs/ARCHITECTURE.md says, checked: its steps to add an env, its layers and the paths it names.

The steps are done on a toy env (tests/toy_env). It is registered under a test-only id only while a
test runs (``registered``), with the ``register`` call ``edge_envs/__init__.py`` makes and its
baselines module added to ``baselines``' table, then run through the checks every registered id gets:
each Gymnasium-id test of tests/test_conformance.py and the baseline test of tests/test_registry.py,
called as they are.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import register, registry

import baselines
import edge_envs
from tests import test_conformance, test_registry
from tests.toy_env import ToyGenerator, ToyOffloadConfig, ToyOffloadEnv, core
from tests.toy_env.baselines import Greedy

ROOT = Path(__file__).resolve().parents[1]
TOY_ID = "ToyOffloadTestOnly-v0"


@contextlib.contextmanager
def registered(env_id: str):
    """The toy env under ``env_id`` (Gymnasium's registry and ``baselines``' table) inside the block only."""
    register(id=env_id, entry_point="tests.toy_env.env:ToyOffloadEnv", vector_entry_point=None, max_episode_steps=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(baselines._MODULES, env_id, ("tests.toy_env.baselines", "POLICIES", "REFERENCES"))
        try:
            yield env_id
        finally:
            del registry[env_id]


@pytest.fixture
def toy_id():
    with registered(TOY_ID) as env_id:
        yield env_id


def _gym_id_checks() -> list:
    """Every test of the conformance suite parametrised over the Gymnasium ids alone (not the vector or
    PettingZoo ones), by name."""
    checks = []
    for name, function in vars(test_conformance).items():
        marks = getattr(function, "pytestmark", [])
        over_ids = any(m.name == "parametrize" and m.args[1] is test_conformance.GYM_IDS for m in marks)
        if name.startswith("test_conformance__") and over_ids:
            checks.append(pytest.param(function, id=name.removeprefix("test_conformance__")))
    return checks


GYM_ID_CHECKS = _gym_id_checks()


def test_architecture__the_conformance_checks_taken_are_the_suite_s_gymnasium_id_tests():
    names = {param.id for param in GYM_ID_CHECKS}
    assert {"gymnasium_check_env_passes", "same_seed_and_actions_give_the_same_trajectory"} <= names
    assert not any("vector" in name or "pettingzoo" in name for name in names)


@pytest.mark.parametrize("check", GYM_ID_CHECKS)
def test_architecture__toy_env_passes_each_conformance_check(toy_id, check):
    check(toy_id)


@pytest.mark.parametrize("kind", sorted(test_conformance.bad_actions(gym.spaces.Discrete(2))))
def test_architecture__toy_env_refuses_each_kind_of_bad_action(toy_id, kind):
    test_conformance.test_conformance__bad_action_is_a_value_error(toy_id, kind)


def test_architecture__toy_env_baselines_act_validly(toy_id):
    assert baselines.available(toy_id) == ["greedy", "local"]
    test_registry.test_registry__every_baseline_acts_validly(toy_id)


def test_architecture__toy_id_is_gone_after_the_block_and_never_in_the_package_list():
    with registered(TOY_ID):
        assert gym.make(TOY_ID).spec.id == TOY_ID
    assert TOY_ID not in registry and TOY_ID not in baselines._MODULES and TOY_ID not in edge_envs.ENV_IDS


def test_toy_core__hand_computed_toy_episode():
    env = ToyOffloadEnv(config=ToyGenerator.config(), generator=ToyGenerator())
    env.reset(seed=0)
    # 2 Mbit offloaded: 2/8 + 2/16 s; 4 Mbit on the device at 2 Mbit/s: 2 s
    _, first, terminated, _, info = env.step(1)
    assert (first, terminated, info["offloaded"]) == (-0.375, False, True)
    observation, second, terminated, _, _ = env.step(0)
    assert (second, terminated) == (-2.0, True) and observation[2] == 0.0


def test_toy_baselines__greedy_return_equals_the_best_of_every_action_sequence():
    def episode_return(actions, greedy=False) -> float:
        env = ToyOffloadEnv(num_slots=4)
        env.reset(seed=3)
        policy = Greedy(env)
        total = 0.0
        for action in actions:
            total += env.step(policy.act(None, {}) if greedy else action)[1]
        return total

    best = max(episode_return(actions) for actions in itertools.product((0, 1), repeat=4))
    assert episode_return([None] * 4, greedy=True) == best


def test_toy_config__bad_field_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="num_slots"):
        ToyOffloadConfig(num_slots=0)
    with pytest.raises(ValueError, match="uplink_mbit_s"):
        ToyOffloadEnv(uplink_mbit_s=(4.0, 2.0))


def test_toy_core__offloading_cost_is_the_core_s_delay():
    state = core.initial(ToyGenerator.config(), ToyGenerator()(), np.random.default_rng(0))
    assert core.delay(state, core.OFFLOAD) == 0.375 and core.delay(state, core.LOCAL) == 1.0


LAYERS = ("edge_envs", "baselines", "agents", "benchmarks", "edge_envs_cli")  # each imports only those before it


def _imported_packages(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, deferred imports inside functions included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_architecture__each_layer_imports_only_the_layers_before_it(layer):
    later = set(LAYERS[LAYERS.index(layer) + 1 :])
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(_imported_packages(f) & later) for f in files}
    assert not {f: names for f, names in wrong.items() if names}


def test_architecture__layer_check_sees_deferred_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from agents.train import train\n    import benchmarks.files\n")
    assert _imported_packages(module) == {"agents", "benchmarks"}


def test_architecture__every_path_the_doc_names_exists():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    paths = set(re.findall(r"`((?:edge_envs|agents|baselines|benchmarks|edge_envs_cli|tests|docs)/[\w./-]*)`", text))
    assert paths and not sorted(path for path in paths if not (ROOT / path).exists())
