"""Result files: one JSON file per submission, its schema, and the compact record of its actions.

A result file holds the entry's name, kind and policy, the project and scenario-set versions, and
for every episode of the set its instance, seed, return, length, the env's metrics, the policy's
decision time and the actions (exact: dtypes kept) from which ``validate`` replays the return. A
reference file (kind "reference") holds the value of one of the env's REFERENCES per episode.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import zlib
from pathlib import Path

import numpy as np
from gymnasium import spaces

from benchmarks.files import write_atomically

FORMAT = "edge-envs-leaderboard-result"
SCHEMA = 1
KINDS = ("baseline", "agent", "submission", "reference")
# under the working directory (a checkout's root), never inside site-packages
RESULTS_DIR = Path("benchmarks", "leaderboard", "results")
# the project's committed entries, read from wherever the package lives (a checkout or an installed wheel)
PROJECT_RESULTS = Path(__file__).resolve().parent / "results"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,_+()-]{0,63}$")


class ResultError(ValueError):
    """A result file that does not follow the schema or does not replay."""


def check_name(name: str) -> str:
    """An entry name: 1-64 letters, digits, spaces and ``.,_+()-``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"entry name must be 1-64 letters, digits, spaces or .,_+()-, starting with a letter or digit; got {name!r}"
        )
    return name


def file_name(env_id: str, name: str, kind: str) -> str:
    """``<env>__<name>.json`` (references: ``<env>__reference__<name>.json``), spaces as ``_``."""
    slug = check_name(name).replace(" ", "_")
    return f"{env_id}__{'reference__' if kind == 'reference' else ''}{slug}.json"


# ---- actions: any nesting of arrays, numpy scalars, dicts, lists and numbers, exactly ----


def _encode(value):
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return {"ndarray": [array.dtype.str, list(array.shape), array.ravel().tolist()]}
    if isinstance(value, dict):
        return {"dict": [[str(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_encode(item) for item in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(
        f"cannot record an action of type {type(value).__name__}: return numbers, numpy arrays, lists or dicts"
    )


def _decode(value):
    if not isinstance(value, dict):
        return value
    ((tag, body),) = value.items()
    if tag == "ndarray":
        dtype, shape, data = body
        return np.array(data, dtype=np.dtype(dtype)).reshape(shape)
    if tag == "dict":
        return {key: _decode(item) for key, item in body}
    items = [_decode(item) for item in body]
    return tuple(items) if tag == "tuple" else items


def encode_actions(actions: list) -> str:
    """The actions of an episode as base64 of zlib-compressed JSON (dtypes and shapes kept)."""
    text = json.dumps([_encode(action) for action in actions], separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")


def action_bytes(space: spaces.Space) -> int:
    """The most bytes one action of ``space`` takes in :func:`encode_actions`' JSON, with room to spare
    (48 a number: a float's repr takes at most 24, with its comma and the brackets of nested lists)."""
    if isinstance(space, spaces.Dict):
        return 16 + sum(8 + len(str(key)) + action_bytes(sub) for key, sub in space.spaces.items())
    if isinstance(space, spaces.Tuple):
        return 16 + sum(1 + action_bytes(sub) for sub in space.spaces)
    if space.shape is None:
        raise ValueError(f"no size bound for actions of {space}: the leaderboard takes Dict, Tuple and array spaces")
    return 64 + 16 * len(space.shape) + 48 * math.prod(space.shape)


def decode_actions(blob: str, max_bytes: int | None = None) -> list:
    """Inverse of :func:`encode_actions`. With ``max_bytes`` (for files from elsewhere), actions whose JSON
    exceeds it are refused after inflating at most ``max_bytes + 1`` bytes of it."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(base64.b64decode(blob, validate=True), 0 if max_bytes is None else max_bytes + 1)
    except (ValueError, zlib.error) as error:
        raise ResultError(f"the recorded actions do not decode: {error}") from None
    if max_bytes is not None and len(text) > max_bytes:
        raise ResultError(
            f"the recorded actions inflate to over {max_bytes} bytes, more than an episode of the scenario set can "
            "take (its most steps times the most bytes of an action)"
        )
    if not inflater.eof:
        raise ResultError("the recorded actions do not decode: the compressed stream is cut short")
    try:
        return [_decode(action) for action in json.loads(text)]
    except (ValueError, TypeError) as error:
        raise ResultError(f"the recorded actions do not decode: {error}") from None


# ---- schema ----

_TOP = {
    "format": str,
    "schema": int,
    "name": str,
    "kind": str,
    "policy": str,
    "env": str,
    "scenario_set": dict,
    "project_version": str,
    "created": str,
    "episodes": list,
}
_EPISODE = {"instance": str, "seed": int, "return": float, "length": int, "metrics": dict}
_PLAYED = {"decision_s": float, "actions": str}  # episodes played by a policy (not references)


def _check_fields(record: dict, fields: dict, where: str) -> None:
    for key, kind in fields.items():
        if key not in record:
            raise ResultError(f"{where}: missing field {key!r}")
        value = record[key]
        ok = (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is float
            else isinstance(value, kind)
        )
        if kind is int and isinstance(value, bool):
            ok = False
        if not ok:
            raise ResultError(f"{where}: field {key!r} must be {kind.__name__}, got {type(value).__name__}")
        if kind is float and not math.isfinite(value):
            raise ResultError(f"{where}: field {key!r} must be finite, got {value}")


def check_schema(result: dict, scenarios=None) -> None:
    """Raise ResultError unless ``result`` follows the schema (and covers ``scenarios``' episodes in order)."""
    if not isinstance(result, dict):
        raise ResultError("a result file holds one JSON object")
    _check_fields(result, _TOP, "result")
    if result["format"] != FORMAT or result["schema"] != SCHEMA:
        raise ResultError(
            f"format {result['format']!r} schema {result['schema']!r}; expected {FORMAT!r} schema {SCHEMA}"
        )
    if result["kind"] not in KINDS:
        raise ResultError(f"kind {result['kind']!r} is not one of {KINDS}")
    check_name(result["name"])
    _check_fields(result["scenario_set"], {"version": str, "fingerprint": str}, "scenario_set")
    for i, episode in enumerate(result["episodes"]):
        where = f"episode {i}"
        if not isinstance(episode, dict):
            raise ResultError(f"{where}: not an object")
        _check_fields(episode, _EPISODE, where)
        if result["kind"] != "reference":
            _check_fields(episode, _PLAYED, where)
        for key, value in episode["metrics"].items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ResultError(f"{where}: metric {key!r} must be a finite number, got {value!r}")
    if scenarios is None:
        return
    if result["env"] != scenarios.env_id:
        raise ResultError(f"env {result['env']!r} is not the set's {scenarios.env_id!r}")
    recorded = result["scenario_set"]
    if recorded["version"] != scenarios.version or recorded["fingerprint"] != scenarios.fingerprint():
        raise ResultError(
            f"played on scenario set {recorded['version']} ({recorded['fingerprint']}); the current set of "
            f"{scenarios.env_id} is {scenarios.version} ({scenarios.fingerprint()}): re-run the entry"
        )
    expected = [(instance.name, seed) for instance in scenarios.instances for seed in instance.seeds]
    played = [(episode["instance"], episode["seed"]) for episode in result["episodes"]]
    if played != expected:
        raise ResultError(f"episodes {played} are not the set's {expected}")


# ---- files ----


def write_result(result: dict, results_dir: Path = RESULTS_DIR, overwrite: bool = False) -> Path:
    """Write ``result`` atomically to its file in ``results_dir``; refuse to replace an entry unless ``overwrite``."""
    path = Path(results_dir) / file_name(result["env"], result["name"], result["kind"])
    if path.exists() and not overwrite:
        raise ValueError(f"{path} exists: choose another --name, or pass --overwrite to replace the entry")
    write_atomically(path, json.dumps(result, indent=1, sort_keys=True) + "\n")
    return path


def check_results_dir(results_dir: Path) -> None:
    """A ValueError naming why, unless a result file can be written in ``results_dir`` (or it can be made)."""
    folder = Path(results_dir)
    existing = next(path for path in (folder, *folder.absolute().parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(f"results folder {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"results folder {folder}: {existing} is not writable")


def read_result(path: Path) -> dict:
    """The JSON object of a result file (ResultError if it is not JSON)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultError(f"cannot read {path}: {error}") from None


def result_files(results_dir: Path = RESULTS_DIR) -> list[Path]:
    """Every result file in ``results_dir``, sorted by name."""
    return sorted(Path(results_dir).glob("*.json"))
