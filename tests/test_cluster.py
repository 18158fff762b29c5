"""The grid search on a Dask cluster: the documented calls, the results of the default backend, a lost worker."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import distributed
import pandas as pd
import pytest

from helpers.autoencoder.search import grid_search_cv
from helpers.parallel import dask_client, task_threads
from helpers.profiles import AUTOENCODER, values
from helpers.report import REPO

pytestmark = pytest.mark.slow  # a Dask cluster / whole trainings

GRID = {"lr": [1e-3, 3e-3], "latent_dim": [2, 4]}
KW = dict(n_folds=3, epochs=1, batch_size=64, seed=0, progress=False, device="cpu")


@pytest.fixture(scope="module")
def tiny(mnist_train):
    return mnist_train[0][:600]


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """The same search with the default backend (local loky processes)."""
    return grid_search_cv(tiny, GRID, results_dir=tmp_path_factory.mktemp("loky"), n_jobs=2, **KW)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        yield lc


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))


def test_dask_backend_matches_default_backend(tiny, reference, cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative results_dir, as the notebooks pass it
    with distributed.Client(cluster) as client:
        res = grid_search_cv(tiny, GRID, results_dir="rel_results", backend="dask", n_jobs=-1, **KW)
        assert res.n_trained == len(res.folds) == 12
        _same_rows(res.folds, reference.folds)
        pd.testing.assert_frame_equal(res.summary.drop(columns="seconds"), reference.summary.drop(columns="seconds"))
        # each task sizes its torch threads from its own worker: one per task slot (the nanny's OMP_NUM_THREADS)
        assert client.submit(task_threads, pure=False).result() == 1
    # written by this process, not by the workers: resume works as with loky
    assert len(list((tmp_path / "rel_results" / "cv_runs").glob("*.json"))) == 12
    assert grid_search_cv(tiny, GRID, results_dir="rel_results", n_jobs=1, **KW).n_trained == 0


def test_lost_worker_costs_only_its_fold(tiny, reference, cluster, tmp_path):
    runs, state = tmp_path / "cv_runs", {}

    def kill_a_busy_worker(client):
        deadline = time.time() + 60
        while time.time() < deadline and not list(runs.glob("*.json")):
            time.sleep(0.02)
        busy = [addr for addr, keys in client.processing().items() if keys]
        pids = client.run(os.getpid)
        state["rows_at_kill"] = len(list(runs.glob("*.json")))
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)
            state["killed"] = busy[0]

    with distributed.Client(cluster) as client:
        killer = threading.Thread(target=kill_a_busy_worker, args=(client,))
        killer.start()
        res = grid_search_cv(tiny, GRID, results_dir=tmp_path, backend="dask", **{**KW, "epochs": 3})
        killer.join()
    assert "killed" in state and state["rows_at_kill"] < 12  # a worker died while folds were still running
    assert res.n_trained == len(res.folds) == 12  # its fold was run again elsewhere; the search finished
    assert res.folds["fold"].value_counts().to_dict() == {0: 4, 1: 4, 2: 4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_commands_scheduler_workers_and_notebook_parameter(tmp_path):
    """The README's commands: `dask scheduler`, `dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1`, then
    notebook 01 with `-p backend dask` and DASK_SCHEDULER_ADDRESS: every fold runs on the workers."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_cli = os.path.join(os.path.dirname(sys.executable), "dask")  # the venv's `dask` command
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [
        subprocess.Popen(
            [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"], **quiet
        )
    ]
    try:
        procs.append(
            subprocess.Popen(
                [dask_cli, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], **quiet
            )
        )
        with distributed.Client(address, timeout=60) as probe:
            probe.wait_for_workers(2, timeout=60)
        results = tmp_path / "results"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "helpers.report",
                "--profile",
                "quick",
                "--only",
                "01",
                "-p",
                "backend",
                "dask",
                "-p",
                "results_dir",
                str(results),
                "-p",
                "figures_dir",
                str(tmp_path / "figures"),
            ],
            cwd=REPO,
            env={**os.environ, "DASK_SCHEDULER_ADDRESS": address},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        folds = pd.read_csv(results / "cv_folds.csv")
        q = values(AUTOENCODER, "quick")
        assert (folds["rung"] == 0).sum() == len(q["learning_rates"]) * len(q["latent_dims"]) * q["n_folds"]
        assert folds["rung"].max() == len(q["rungs"]) - 1  # the halving went on to its last rung
        n_runs = len(folds)
        with distributed.Client(address, timeout=60) as probe:
            executed = probe.run(lambda dask_worker: dask_worker.state.executed_count)
        assert len(executed) == 2 and sum(executed.values()) >= len(folds) == n_runs  # ran on the cluster
        assert len(list((results / "cv_runs").glob("*.json"))) == n_runs  # written by the notebook's process
    finally:
        for p in procs[::-1]:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)


def test_dask_without_cluster_or_package_says_what_to_do(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(RuntimeError, match="DASK_SCHEDULER_ADDRESS"):
        dask_client()
    with pytest.raises(RuntimeError, match="Dask cluster"):
        grid_search_cv(tiny, GRID, results_dir=tmp_path, backend="dask", **KW)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ImportError, match="dask and distributed"):
        grid_search_cv(tiny, GRID, results_dir=tmp_path, backend="dask", **KW)


def test_n_jobs_minus_one_and_bad_values(tiny, reference, tmp_path):
    res = grid_search_cv(tiny, GRID, results_dir=tmp_path, n_jobs=-1, **KW)  # every core, as in joblib
    _same_rows(res.folds, reference.folds)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="n_jobs"):
            grid_search_cv(tiny, GRID, results_dir=tmp_path / "bad", n_jobs=bad, **KW)
