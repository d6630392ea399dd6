"""Result files: exact action records, the schema, file names."""

import base64
import copy
import tracemalloc
import zlib

import numpy as np
import pytest
from gymnasium import spaces

from benchmarks.leaderboard import results
from benchmarks.leaderboard.results import ResultError, check_schema, decode_actions, encode_actions
from benchmarks.leaderboard.scenarios import SETS


def test_actions__round_trip_keeps_values_dtypes_and_nesting():
    actions = [
        np.array([1, 0, 3], dtype=np.int64),
        np.float32(0.1),
        {"iot_0": np.array([2, 2], dtype=np.int8)},
        (1, 2.5),
        [None, True],
        np.array([[0.1, 0.2]], dtype=np.float32),
        7,
    ]
    decoded = decode_actions(encode_actions(actions))
    assert decoded[0].dtype == np.int64 and decoded[0].tolist() == [1, 0, 3]
    assert decoded[1].dtype == np.float32 and decoded[1] == np.float32(0.1)
    assert decoded[2]["iot_0"].dtype == np.int8 and decoded[2]["iot_0"].tolist() == [2, 2]
    assert decoded[3] == (1, 2.5) and decoded[4] == [None, True] and decoded[6] == 7
    assert decoded[5].shape == (1, 2) and np.array_equal(decoded[5], actions[5])


def test_actions__unrecordable_type_names_what_is_allowed():
    with pytest.raises(ValueError, match="cannot record an action of type object"):
        encode_actions([object()])


def test_actions__corrupt_blob_is_a_result_error():
    with pytest.raises(ResultError, match="do not decode"):
        decode_actions("not base64!")


def _bomb(text_bytes: int) -> str:
    """A blob of actions (a list of zeros) whose JSON inflates to ``text_bytes`` from a few kB."""
    text = b"[" + b"0," * (text_bytes // 2 - 1) + b"0]"
    return base64.b64encode(zlib.compress(text, 9)).decode("ascii")


def test_actions__bounded_decode_refuses_a_blob_that_inflates_past_the_bound_in_small_memory():
    blob = _bomb(40_000_000)
    assert len(blob) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ResultError, match="inflate to over 100000 bytes"):
            decode_actions(blob, 100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_actions__bounded_decode_takes_actions_up_to_the_bound_and_refuses_a_cut_stream():
    blob = encode_actions([np.zeros(6, dtype=np.int64)] * 3)
    size = len(zlib.decompress(base64.b64decode(blob)))
    assert len(decode_actions(blob, size)) == 3
    with pytest.raises(ResultError, match=f"inflate to over {size - 1} bytes"):
        decode_actions(blob, size - 1)
    cut = base64.b64encode(base64.b64decode(blob)[:-6]).decode("ascii")
    with pytest.raises(ResultError, match="cut short"):
        decode_actions(cut, size)


@pytest.mark.parametrize(
    ("space", "action"),
    [
        (spaces.Discrete(66), 65),
        (spaces.Discrete(66), np.int64(65)),
        (spaces.MultiDiscrete([8, 8, 8, 23]), np.array([7, 7, 7, 22])),
        (spaces.MultiDiscrete([8, 8, 8, 23]), [7, 7, 7, 22]),
        (spaces.Box(-np.inf, np.inf, (2, 3), np.float64), np.full((2, 3), -2.2250738585072014e-308)),
        (spaces.Box(-np.inf, np.inf, (3, 1), np.float64), np.full((3, 1), -1.2345678901234567e-300).tolist()),
        (
            spaces.Dict({"rsu_0": spaces.Box(0, 1, (5,)), "rsu_1": spaces.Box(0, 1, (5,))}),
            {"rsu_0": np.full(5, 0.123456789, np.float32), "rsu_1": np.full(5, 0.987654321, np.float32).tolist()},
        ),
        (spaces.Tuple((spaces.Discrete(3), spaces.MultiBinary(4))), (2, np.ones(4, dtype=np.int8))),
    ],
)
def test_action_bytes__bounds_the_json_of_the_longest_actions_of_the_space(space, action):
    blob = encode_actions([action] * 10)
    assert len(zlib.decompress(base64.b64decode(blob))) <= 2 + 10 * results.action_bytes(space)


def _result():
    scenarios = SETS["EdgePartition-v0"]
    episodes = [
        {
            "instance": i.name,
            "seed": s,
            "return": -1.0,
            "length": 1,
            "metrics": {"delay": 1.0},
            "decision_s": 0.0,
            "actions": encode_actions([np.zeros(6, dtype=np.int64)]),
        }
        for i in scenarios.instances
        for s in i.seeds
    ]
    return {
        "format": results.FORMAT,
        "schema": results.SCHEMA,
        "name": "x",
        "kind": "submission",
        "policy": "m:o",
        "env": "EdgePartition-v0",
        "project_version": "0",
        "created": "now",
        "episodes": episodes,
        "scenario_set": {"version": scenarios.version, "fingerprint": scenarios.fingerprint()},
    }


def test_schema__complete_result_passes():
    check_schema(_result(), SETS["EdgePartition-v0"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.pop("episodes"), "missing field 'episodes'"),
        (lambda r: r.update(kind="winner"), "kind 'winner'"),
        (lambda r: r["episodes"][0].update({"return": float("nan")}), "must be finite"),
        (lambda r: r["episodes"][0].update({"return": "-1"}), "must be float"),
        (lambda r: r["episodes"][0]["metrics"].update(delay=None), "metric 'delay'"),
        (lambda r: r["episodes"].pop(), "are not the set's"),
        (lambda r: r["scenario_set"].update(fingerprint="0"), "re-run the entry"),
        (lambda r: r.update(name="../../etc"), "entry name"),
    ],
)
def test_schema__broken_result_is_refused_with_the_reason(edit, message):
    result = copy.deepcopy(_result())
    edit(result)
    with (
        pytest.raises(ResultError, match=message)
        if message != "entry name"
        else pytest.raises(ValueError, match=message)
    ):
        check_schema(result, SETS["EdgePartition-v0"])


def test_file_name__spaces_become_underscores_and_references_are_marked():
    assert (
        results.file_name("EdgePartition-v0", "my agent (v2)", "submission") == "EdgePartition-v0__my_agent_(v2).json"
    )
    assert results.file_name("EdgePartition-v0", "bound", "reference") == "EdgePartition-v0__reference__bound.json"


def test_write_result__refuses_to_replace_an_entry(tmp_path):
    path = results.write_result(_result(), tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="exists"):
        results.write_result(_result() | {"policy": "other:o"}, tmp_path)
    assert path.read_bytes() == before
