"""Config keywords follow Python's conventions (issue 27, item 2): an unknown keyword is a TypeError, as
for any function, and still a ValueError naming the field, as every other malformed config is."""

import gymnasium as gym
import pytest

import edge_envs
from edge_envs import edge_partition_multi_v0, multiserver_fl_v0
from edge_envs.config import UnknownFieldError

MAKERS = {
    **{env_id: (lambda env_id=env_id, **kw: gym.make(env_id, **kw)) for env_id in edge_envs.ENV_IDS},
    "edge_partition_multi_v0": edge_partition_multi_v0.parallel_env,
    "multiserver_fl_v0": multiserver_fl_v0.parallel_env,
}


@pytest.mark.parametrize("name", MAKERS)
def test_from_kwargs__unknown_keyword_is_a_type_error_naming_it(name):
    wording = (
        r"unknown \w+Config field\(s\) \['frameskip'\] \(\w+Config got an unexpected keyword argument 'frameskip'\)"
    )
    with pytest.raises(TypeError, match=wording) as caught:
        MAKERS[name](frameskip=4)
    assert isinstance(caught.value, UnknownFieldError) and isinstance(caught.value, ValueError)
