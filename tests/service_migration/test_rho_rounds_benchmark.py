"""benchmarks/rho_rounds_service_migration.py: the Corollary 1 fit and a smoke run."""

import numpy as np
import pytest

from benchmarks import rho_rounds_service_migration as rho_rounds
from edge_envs.service_migration.learning import rounds_to_target


def test_fit_corollary1__recovers_alpha_and_beta_from_exact_rounds():
    rhos = np.array([0.025, 0.03, 0.05, 0.1, 0.3])
    alpha, beta, r2 = rho_rounds.fit_corollary1(rhos, rounds_to_target(rhos, 0.02, 100.0))
    assert alpha == pytest.approx(0.02, rel=1e-4) and beta == pytest.approx(100.0, rel=1e-4) and r2 > 0.999


@pytest.mark.slow
@pytest.mark.numerics
def test_rho_rounds_benchmark__smoke_run_tables_both_variants(tmp_path, capsys):
    out = tmp_path / "rho.md"
    argv = ["--seeds", "1", "--rhos", "0.1", "0.3", "--max-rounds", "2", "--out", str(out)]
    assert rho_rounds.main(argv) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    assert "| 0.1 |" in text and "| 0.3 |" in text and "minibatch: alpha" in text and "full batch: alpha" in text
    assert "(0/1 reached)" in text  # two rounds cannot reach the target
