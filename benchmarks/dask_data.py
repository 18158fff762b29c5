"""What the grid search sends to Dask workers: the training array once per worker vs once per task.

    python benchmarks/dask_data.py [--root ../shared/data] [--tasks 12] [--workers 2]

Starts a LocalCluster and runs the same trivial per-fold tasks through ``helpers.parallel.parallel_imap`` twice,
in one run: (a) each task carries the 60,000-image array itself (what pickling the data into every task
costs), (b) the array is passed as ``shared`` and broadcast to each worker once, as ``grid_search_cv`` does.
Prints the bytes each task pickles and the wall time of each way.
"""

import argparse
import pickle
import time

from distributed import Client, LocalCluster
from records import save

from helpers.data import load_mnist
from helpers.parallel import parallel_imap


def in_item(item):
    fold, x = item
    return fold, float(x[fold].sum())


def shared_arg(fold, x):
    return fold, float(x[fold].sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None)
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args(argv)
    x = load_mnist(args.root, train=True)[0].numpy()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        parallel_imap(shared_arg, [0], backend="dask", shared=(x[:1],)).__next__()  # warm the workers up
        t0 = time.perf_counter()
        a = dict(parallel_imap(in_item, [(k, x) for k in range(args.tasks)], backend="dask"))
        ta = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = dict(parallel_imap(shared_arg, list(range(args.tasks)), backend="dask", shared=(x,)))
        tb = time.perf_counter() - t0
    assert a == b
    per_task_a, per_task_b = len(pickle.dumps((0, x))), len(pickle.dumps(0))
    print(f"{args.tasks} tasks on {args.workers} workers, training array {x.nbytes / 1e6:.0f} MB")
    print(f"(a) array in every task: {per_task_a / 1e6:.0f} MB pickled per task, {ta:.1f} s")
    print(f"(b) array broadcast once per worker: {per_task_b} B per task, {tb:.1f} s")
    print(f"ratio a/b: {ta / tb:.1f}x")
    save(
        "dask_data",
        what=f"{args.tasks} trivial tasks on a LocalCluster of {args.workers} single-thread workers, "
        f"with the {x.nbytes / 1e6:.0f} MB training array (a) pickled into every task and (b) broadcast once per "
        "worker.",
        columns=["how the array travels", "bytes pickled per task", "seconds"],
        rows=[["(a) in every task", per_task_a, round(ta, 2)], ["(b) broadcast once", per_task_b, round(tb, 2)]],
        summary=f"a/b = {ta / tb:.1f}x",
        out=args.out,
    )


if __name__ == "__main__":
    main()
