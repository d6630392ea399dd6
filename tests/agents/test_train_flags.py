"""``edge-envs train`` honours or refuses every flag for every --algo (issue 33, item 2), maskable-ppo
checkpoints and resumes as ppo does (issue 24, item 5), and --resume onto a checkpoint of another
algorithm is one named error line (issue 24, item 6)."""

import shutil

import pytest

import agents.train
from agents.checkpoint import load_checkpoint
from agents.train import make_options, train
from edge_envs_cli import main
from tests.agents.bandit import ENV_ID, MASKED_ENV_ID

TINY_MASKABLE = {"n_steps": 16, "batch_size": 8, "n_epochs": 1, "net_arch": (8,)}
TINY_MASKABLE_FLAGS = ["--n-steps", "16", "--batch-size", "8", "--n-epochs", "1", "--net-arch", "8"]


def _one_error_line(argv, capsys) -> str:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _train(tmp_path, algo, env=MASKED_ENV_ID, *extra):
    return ["train", "--env", env, "--algo", algo, "--steps", "16", "--logdir", str(tmp_path / "runs"),
            "--no-progress", "--eval-episodes", "0", *extra]  # fmt: skip


MASKABLE, RLLIB = "maskable-ppo", "rllib-ppo"
REFUSED = {
    "maskable-ppo gamma 2": (MASKABLE, ["--gamma", "2"], "MaskableOptions.gamma (--gamma) must be a number in [0.0, 1"),
    "maskable-ppo gamma nan": (MASKABLE, ["--gamma", "nan"], "MaskableOptions.gamma (--gamma) must be a number"),
    "maskable-ppo learning rate 0": (MASKABLE, ["--learning-rate", "0"], "MaskableOptions.learning_rate"),
    "maskable-ppo rollout of 1 step": (MASKABLE, ["--n-steps", "1"], "MaskableOptions.n_steps (--n-steps) must be"),
    "maskable-ppo reward scale 0": (MASKABLE, ["--reward-scale", "0"], "MaskableOptions.reward_scale (--reward-scale)"),
    "maskable-ppo width 0": (MASKABLE, ["--net-arch", "0"], "MaskableOptions.net_arch (--net-arch) widths"),
    "maskable-ppo A3C learning rate": (MASKABLE, ["--lr-actor", "0.1"], "--lr-actor not an option of maskable-ppo;"),
    "maskable-ppo env copies": (MASKABLE, ["--envs", "2"], "--envs not an option of maskable-ppo"),
    "maskable-ppo warm start": (MASKABLE, ["--imitation-steps", "8"], "--imitation-steps not an option of maskable"),
    "ppo maskable rollout": ("ppo", ["--n-steps", "64"], "--n-steps not an option of ppo; its options:"),
    "mtl-a3c maskable rate": ("mtl-a3c", ["--learning-rate", "0.1"], "--learning-rate not an option of mtl-a3c"),
    "ppo env runners": ("ppo", ["--env-runners", "2"], "--env-runners not an option of ppo; only rllib-ppo takes it"),
    "mtl-a3c ray address": ("mtl-a3c", ["--address", "auto"], "--address not an option of mtl-a3c; only rllib-ppo"),
    "rllib-ppo gamma": (RLLIB, ["--gamma", "0.5"], "--gamma not an option of rllib-ppo; its options: none of the"),
    "rllib-ppo checkpoint every": (RLLIB, ["--checkpoint-every", "5"], "--checkpoint-every is not available for rllib"),
    "mtl-a3c chain prior alone": ("mtl-a3c", ["--chain-prior", "3"], "--chain-prior (it acts only with --chain"),
    "ppo teacher without a warm start": ("ppo", ["--imitation-teacher", "greedy"], "--imitation-teacher (it acts only"),
}  # fmt: skip


@pytest.mark.parametrize("algo, extra, message", REFUSED.values(), ids=REFUSED.keys())
def test_train_command__a_flag_the_algo_does_not_use_or_out_of_range_is_refused(tmp_path, capsys, algo, extra, message):
    env = MASKED_ENV_ID if algo == "maskable-ppo" else "EdgeUpload-v0" if algo == "rllib-ppo" else ENV_ID
    line = _one_error_line(_train(tmp_path, algo, env, *extra), capsys)
    assert line.startswith("edge-envs train: error: ") and message in line, line
    assert not any((tmp_path / "runs").glob("*"))  # refused before any run folder


def test_train_command__maskable_ppo_refuses_an_env_without_masks_before_a_run_folder(tmp_path, capsys):
    line = _one_error_line(_train(tmp_path, "maskable-ppo", "EdgePartition-v0"), capsys)
    assert line.startswith("edge-envs train: error: maskable-ppo needs an env with action masks")
    assert "EdgePartition-v0 has none" in line
    assert not any((tmp_path / "runs").glob("*"))


def test_train_command__maskable_ppo_honours_its_flags(tmp_path, capsys):
    argv = _train(tmp_path, "maskable-ppo", MASKED_ENV_ID, *TINY_MASKABLE_FLAGS, "--gamma", "0.5", "--ent-coef", "0")
    assert main(argv) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    options = load_checkpoint(run_dir / "checkpoint.pt")["options"]
    assert (options["gamma"], options["ent_coef"], options["n_steps"], options["net_arch"]) == (0.5, 0.0, 16, (8,))
    trainer = agents.train._make_trainer("maskable-ppo", MASKED_ENV_ID, {}, 0, 16, make_options(
        "maskable-ppo", MASKED_ENV_ID, {"gamma": 0.5, **TINY_MASKABLE}))  # fmt: skip
    assert (trainer.model.gamma, trainer.model.n_steps, trainer.model.policy.net_arch) == (0.5, 16, [8])


def test_train__maskable_ppo_killed_mid_run_leaves_a_checkpoint_that_resumes(tmp_path, monkeypatch):
    real_save = agents.train.save_checkpoint
    saved = []

    def killed_after_update_3(path, payload):  # the run dies after its third update: the checkpoint holds it
        saved.append(payload["updates"])
        if payload["updates"] <= 3:
            real_save(path, payload)

    monkeypatch.setattr(agents.train, "save_checkpoint", killed_after_update_3)
    options = make_options("maskable-ppo", MASKED_ENV_ID, TINY_MASKABLE)
    first = train(MASKED_ENV_ID, "maskable-ppo", 64, logdir=tmp_path, options=options, checkpoint_every=2,
                  progress=False)  # fmt: skip
    monkeypatch.undo()
    assert saved == [0, 1, 3, 4]  # at the start, after the first update, 2 updates later, at the end (as ppo)
    kept = load_checkpoint(first.checkpoint)
    assert (kept["steps"], kept["updates"]) == (48, 3) and kept["optimizer"]["state"]  # Adam's moments are kept
    more = train(MASKED_ENV_ID, "maskable-ppo", 64, logdir=tmp_path, resume=True, progress=False)
    assert more.run_dir == first.run_dir and (more.steps, more.updates) == (64, 4)
    assert load_checkpoint(more.checkpoint)["options"]["n_steps"] == 16  # the run's options, not the defaults
    with pytest.raises(ValueError, match=r"--resume keeps the run's options; these differ: --gamma 0.5"):
        train(MASKED_ENV_ID, "maskable-ppo", 96, logdir=tmp_path, options=make_options(
            "maskable-ppo", MASKED_ENV_ID, {**TINY_MASKABLE, "gamma": 0.5}), resume=True, progress=False)  # fmt: skip


def test_train_command__maskable_ppo_resumes(tmp_path, capsys):
    assert main(_train(tmp_path, "maskable-ppo", MASKED_ENV_ID, *TINY_MASKABLE_FLAGS)) == 0
    argv = _train(tmp_path, "maskable-ppo", MASKED_ENV_ID, "--resume")
    argv[argv.index("--steps") + 1] = "48"
    assert main(argv) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert load_checkpoint(run_dir / "checkpoint.pt")["steps"] == 48


def test_train_command__resume_onto_a_ppo_checkpoint_in_an_mtl_a3c_folder_is_one_named_line(tmp_path, capsys):
    ppo = train(ENV_ID, "ppo", 64, logdir=tmp_path / "runs", progress=False)
    impostor = tmp_path / "runs" / ppo.run_dir.name.replace("__ppo__", "__mtl-a3c__")
    impostor.mkdir()
    shutil.copy(ppo.checkpoint, impostor / "checkpoint.pt")
    line = _one_error_line(_train(tmp_path, "mtl-a3c", ENV_ID, "--resume"), capsys)
    assert (
        line
        == f"edge-envs train: error: --resume: {impostor / 'checkpoint.pt'} was written for algo 'ppo', not 'mtl-a3c'"
    )


def test_train_command__an_unmasked_algo_with_illegal_action_raise_is_refused_before_a_run_folder(tmp_path, capsys):
    line = _one_error_line(
        _train(tmp_path, "ppo", "EdgeUpload-v0", "--env-kwargs", '{"illegal_action": "raise"}'), capsys
    )
    assert "ppo does not read EdgeUpload-v0's action mask" in line and "--algo maskable-ppo" in line, line
    assert not any((tmp_path / "runs").glob("*"))


@pytest.mark.slow  # SB3's 2048-step rollout: about 20 s
def test_train_command__ppo_trains_edge_upload_with_the_default_nearest_legal_action(tmp_path, capsys):
    argv = _train(tmp_path, "ppo", "EdgeUpload-v0", "--env-kwargs", '{"model": "nin"}')
    assert main(argv) == 0, capsys.readouterr().err  # it used to stop at the first forbidden upload
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert load_checkpoint(run_dir / "checkpoint.pt")["steps"] >= 16


def test_train_command__a3c_on_box_actions_names_action_levels(tmp_path, capsys):
    argv = _train(tmp_path, "mtl-a3c", "multiserver_fl_v0", "--env-kwargs", '{"action_levels": 0, "num_vehicles": 5}')
    line = _one_error_line(argv, capsys)
    assert "got Box" in line and "action_levels=L" in line and '{"action_levels": 2}' in line, line
    assert not any((tmp_path / "runs").glob("*"))
