import pytest

from edge_envs.dnn.profiler import measure
from tests.dnn.tiny import make_tiny_chain


@pytest.fixture(scope="session")
def tiny_profile():
    """A real (fast) CPU profile of the tiny chain at batch sizes 1 and 2."""
    return measure(make_tiny_chain(), "cpu", (1, 2), repeats=3, warmup=1)
