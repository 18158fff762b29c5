"""Notebook 04's studies: the sampling grids, the recipe comparison, and the tables and results-file entries
built from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..artifacts import load_or_compute_table
from ..runtime import check_positive
from .sampling import RejectionBudgetError, generate, latent_langevin, rejection_sample
from .scoring import sample_quality
from .store import load_or_train_gan
from .training import from_gan_range, with_recipe


def rejection_grid(G, D, clf, ref_features, gammas, n, *, min_class_share=0.05, seed=None, device=None, max_draws=None):
    """Score :func:`rejection_sample` at each ``gamma`` (``n`` samples, FID against ``ref_features``,
    IS, smallest class share, kept share of draws) and pick the gamma with the lowest FID among those
    whose smallest class keeps at least ``min_class_share`` (all scored gammas if none does). A gamma that
    keeps too few samples within ``max_draws`` is listed with empty scores and not chosen.
    Returns ``(DataFrame indexed by gamma, chosen gamma)``."""
    if not len(gammas):
        raise ValueError("gammas must hold at least one value")
    rows = []
    for g in gammas:
        try:
            imgs, rate = rejection_sample(G, D, n, gamma=float(g), seed=seed, device=device, max_draws=max_draws)
        except RejectionBudgetError:
            rows.append(
                {
                    "gamma": float(g),
                    "kept share of draws": float("nan"),
                    "fid": float("nan"),
                    "is": float("nan"),
                    "min_class_share": float("nan"),
                }
            )
            continue
        q = sample_quality(clf, from_gan_range(imgs), ref_features, device)
        rows.append(
            {
                "gamma": float(g),
                "kept share of draws": rate,
                "fid": q["fid"],
                "is": q["is"],
                "min_class_share": q["min_class_share"],
            }
        )
    table = pd.DataFrame(rows).set_index("gamma")
    scored = table.dropna(subset=["fid"])
    if scored.empty:
        raise RejectionBudgetError(
            f"no gamma in {list(gammas)} kept {n} samples within the draw budget; try lower gammas"
        )
    return table, float(_lowest_fid(scored, min_class_share))


def _lowest_fid(scored: pd.DataFrame, min_class_share: float):
    """Index of the lowest ``fid`` among rows whose ``min_class_share`` reaches the floor (all rows if none does)."""
    ok = scored[scored["min_class_share"] >= min_class_share]
    return (ok if len(ok) else scored)["fid"].idxmin()


def langevin_grid(
    G,
    D,
    clf,
    ref_features,
    scales,
    steps,
    n,
    *,
    step_size=0.01,
    min_class_share=0.05,
    seed=None,
    device=None,
    amp=False,
):
    """Score :func:`latent_langevin` from ``n`` standard-normal draws for each ``scale`` after each count of
    ``steps`` (FID against ``ref_features``, IS, smallest class share) and pick the (scale, steps) with the
    lowest FID among those whose smallest class keeps at least ``min_class_share`` (all if none does). The draws
    come from ``seed``, the chains' noise from ``seed + 1``; ``amp``: see :func:`latent_langevin` (samples are decoded
    in fp32).
    Returns ``(DataFrame indexed by (scale, steps), chosen (scale, steps))``."""
    if not len(scales):
        raise ValueError("scales must hold at least one value")
    check_positive("n", n, integer=True)
    z0 = torch.randn(n, G.noise_dim, generator=torch.Generator().manual_seed(seed) if seed is not None else None)
    rows = []
    for scale in scales:
        chain = latent_langevin(
            G,
            D,
            z0,
            steps,
            step_size=step_size,
            scale=float(scale),
            seed=None if seed is None else seed + 1,
            device=device,
            amp=amp,
        )
        for s, z in chain.items():
            q = sample_quality(clf, from_gan_range(generate(G, z, device)), ref_features, device)
            rows.append(
                {
                    "scale": float(scale),
                    "steps": s,
                    "fid": q["fid"],
                    "is": q["is"],
                    "min_class_share": q["min_class_share"],
                }
            )
    table = pd.DataFrame(rows).set_index(["scale", "steps"])
    scale, s = _lowest_fid(table, min_class_share)
    return table, (float(scale), int(s))


def rejection_study(
    G, D, clf, select_features, ref_features, gammas, n, *, min_class_share=0.05, seed=0, device=None
) -> dict:
    """:func:`rejection_grid` (the γ chosen by FID against ``select_features``, drawn with ``seed + 1``), then ``n``
    fresh samples at that γ (drawn with ``seed``) scored against ``ref_features``. Returns ``{table, gamma, samples,
    kept, quality, rule_applied}`` (``rule_applied``: some γ kept every class at ``min_class_share``, so the
    choice was made among those)."""
    table, gamma = rejection_grid(
        G, D, clf, select_features, gammas, n, min_class_share=min_class_share, seed=seed + 1, device=device
    )
    samples, kept = rejection_sample(G, D, n, gamma=gamma, seed=seed, device=device)
    return {
        "table": table,
        "gamma": gamma,
        "samples": samples,
        "kept": kept,
        "rule_applied": bool((table["min_class_share"] >= min_class_share).any()),
        "quality": sample_quality(clf, from_gan_range(samples), ref_features, device),
    }


def langevin_study(
    G,
    D,
    clf,
    select_features,
    ref_features,
    scales,
    steps,
    n,
    *,
    step_size=0.01,
    min_class_share=0.05,
    seed=0,
    device=None,
    n_chain=12,
    amp=False,
) -> dict:
    """:func:`langevin_grid` over ``scales`` x ``steps`` (chosen by FID against ``select_features``; draws ``seed + 1``,
    chains ``seed + 2``), then the chosen setting from the noise of ``sample(G, n, seed=seed)`` (chains ``seed + 3``),
    scored against ``ref_features``, and the first ``n_chain`` of those draws after every step count; ``amp``: the
    chains in
    bf16 autocast (:func:`latent_langevin`). Returns
    ``{table, scale, steps, samples, quality, rule_applied, chain, best_per_scale}`` (``rule_applied`` as in
    :func:`rejection_study`)."""
    table, (scale, n_steps) = langevin_grid(
        G,
        D,
        clf,
        select_features,
        scales,
        steps,
        n,
        step_size=step_size,
        min_class_share=min_class_share,
        seed=seed + 1,
        device=device,
        amp=amp,
    )
    z0 = torch.randn(n, G.noise_dim, generator=torch.Generator().manual_seed(seed))
    z = latent_langevin(G, D, z0, [n_steps], step_size=step_size, scale=scale, seed=seed + 3, device=device, amp=amp)[
        n_steps
    ]
    samples = generate(G, z, device)
    chain = latent_langevin(
        G, D, z0[:n_chain], steps, step_size=step_size, scale=scale, seed=seed + 3, device=device, amp=amp
    )
    best = table.reset_index().loc[lambda t: t.steps > 0].sort_values("fid").groupby("scale").first()
    return {
        "table": table,
        "scale": scale,
        "steps": n_steps,
        "samples": samples,
        "chain": chain,
        "best_per_scale": best,
        "rule_applied": bool((table["min_class_share"] >= min_class_share).any()),
        "quality": sample_quality(clf, from_gan_range(samples), ref_features, device),
    }


def recipe_comparison(
    path, x, config: dict, candidates: dict, *, epochs, evaluate, spread_of=None, device=None, progress=True
) -> pd.DataFrame:
    """Side runs of :func:`load_or_train_gan` (nothing saved but their checkpoints): ``config`` changed by each of
    ``candidates`` (``{name: {setting: value}}``, see :func:`with_recipe`; ``{}`` is ``config`` itself) and trained
    ``epochs`` epochs. Returns their scored epochs (``candidate, epoch, fid, is, min_class_share, seconds_per_epoch``:
    the median epoch's training time) and, with ``spread_of(G) -> DataFrame`` (:func:`draw_spread`), ``fid_draw_std``:
    the FID's standard deviation over draws of samples from the run's last generator (the same on every row of a run).
    Cached as a CSV table at ``path`` (recomputed when ``config``, ``candidates`` or ``epochs`` change)."""
    check_positive("epochs", epochs, integer=True)
    runs = {name: with_recipe(config, **changes, epochs=epochs) for name, changes in candidates.items()}

    def compute():
        parts = []
        for name, cfg in runs.items():
            G, _, log, _ = load_or_train_gan(
                Path(path).parent, x, cfg, evaluate=evaluate, save=False, device=device, progress=progress
            )
            ep = log["epochs"][log["epochs"].epoch <= epochs]
            part = ep.dropna(subset=["fid"])[["epoch", "fid", "is", "min_class_share"]].assign(
                candidate=name, seconds_per_epoch=float(ep.seconds.median())
            )
            if spread_of is not None:
                part["fid_draw_std"] = float(spread_of(G)["fid"].std())
            parts.append(part)
        cols = ["candidate", "epoch", "fid", "is", "min_class_share", "seconds_per_epoch"] + (
            ["fid_draw_std"] if spread_of else []
        )
        return pd.concat(parts, ignore_index=True)[cols]

    return load_or_compute_table(path, {"runs": runs, "draw_spread": spread_of is not None}, compute)[0]


def recipe_table(comparison: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """One row per run of :func:`recipe_comparison` at ``epoch``: FID (± its draw-to-draw std when measured), IS,
    smallest class share and training seconds per epoch, sorted by FID."""
    out = comparison[comparison.epoch == epoch].set_index("candidate").drop(columns="epoch").sort_values("fid")
    out = out.rename_axis(f"recipe (epoch {epoch})")
    out.attrs["epoch"] = epoch
    return out


def recipe_study(
    path,
    x,
    config: dict,
    candidates: dict,
    ours: pd.DataFrame,
    G,
    spread_of,
    *,
    epochs,
    evaluate,
    device=None,
    progress=True,
) -> dict:
    """Notebook 04's recipe comparison: our run (``"ours"``) and :func:`recipe_comparison` of ``candidates`` for
    ``epochs`` epochs, each with the FID's draw-to-draw std that ``spread_of(G)`` measures (:func:`draw_spreader`); and
    that spread for the final generator ``G``. ``ours`` is the main run's epoch log: when it holds ``fid_draw_std`` at
    ``epochs`` (the main run trained with ``spread_at=(epochs, spread_of)``), our row is read from it; otherwise our
    recipe is rerun as a side run, which must reproduce the main run's FID at that epoch. A candidate whose changes
    leave ``config`` as it is (e.g. fp32 where our recipe already runs in fp32) would only repeat our run: it is not
    trained, and named in ``same_as_ours``. Returns ``{table, spread (of G), curves ({name: scored epochs}), main_fid,
    same_as_ours}`` (``main_fid``: the main run's FID at ``epochs`` when our row was rerun as a side run, which should
    match it; ``None`` when read from the main run)."""
    mine = with_recipe(config)
    same_as_ours = [name for name, changes in candidates.items() if with_recipe(config, **changes) == mine]
    candidates = {name: changes for name, changes in candidates.items() if name not in same_as_ours}
    log = ours.set_index("epoch")
    from_main = (
        "fid_draw_std" in log
        and pd.notna(log["fid_draw_std"].get(epochs, np.nan))
        and pd.notna(log.fid.get(epochs, np.nan))
    )
    side = candidates if from_main else {"ours": {}, **candidates}
    cols = ["candidate", "epoch", "fid", "is", "min_class_share", "seconds_per_epoch", "fid_draw_std"]
    runs = (
        recipe_comparison(
            path,
            x,
            config,
            side,
            epochs=epochs,
            evaluate=evaluate,
            spread_of=spread_of,
            device=device,
            progress=progress,
        )[cols]
        if side
        else pd.DataFrame(columns=cols)
    )
    if from_main:
        first = ours[ours.epoch <= epochs]
        mine = first.dropna(subset=["fid"]).assign(
            candidate="ours",
            seconds_per_epoch=float(first.seconds.median()),
            fid_draw_std=float(log.at[epochs, "fid_draw_std"]),
        )
        runs = pd.concat([mine[cols], runs], ignore_index=True) if len(runs) else mine[cols].reset_index(drop=True)
    curves = dict(tuple(runs.groupby("candidate", sort=False)))
    table = recipe_table(runs, epochs)
    me = table.loc["ours"]
    table["fid_vs_ours"] = table.fid - me.fid  # compared with twice the two runs' combined draw-to-draw std:
    table["twice_combined_std"] = 2 * np.hypot(table.fid_draw_std, me.fid_draw_std)  # beyond it, the runs differ
    spread = spread_of(G)
    main = None if from_main else log.fid.get(epochs, float("nan"))
    return {"table": table, "spread": spread, "curves": curves, "main_fid": main, "same_as_ours": same_as_ours}


RECIPE_COLUMNS = {
    "fid": "FID",
    "is": "IS",
    "min_class_share": "smallest class",
    "seconds_per_epoch": "s / epoch",
    "fid_draw_std": "FID std",
    "fid_vs_ours": "FID − ours",
    "twice_combined_std": "2 × joint std",
}


def recipe_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table of :func:`recipe_study` with short column names (it fits a page), rounded for display."""
    return table.rename(columns=RECIPE_COLUMNS).round(3)


def grid_table(table: pd.DataFrame) -> pd.DataFrame:
    """The grid of :func:`rejection_study` or :func:`langevin_study` with readable column names, rounded for display."""
    return table.rename(columns={"fid": "FID vs train", "is": "IS", "min_class_share": "smallest class"}).round(4)


def summary_metrics(
    log: dict,
    final: dict,
    real: dict,
    clf_accuracy: float,
    drs: dict | None = None,
    ddls: dict | None = None,
    step_size: float | None = None,
    study: dict | None = None,
) -> dict:
    """The results-file entries of notebook 04: the last epoch's losses, the final generator's scores against real
    data's, those of rejection sampling (``drs``) and Langevin sampling (``ddls``) when run, and of the recipe
    comparison (``study``: :func:`recipe_study`, with FID/IS's draw-to-draw standard deviation)."""
    last = log["epochs"].iloc[-1]
    out = {
        "best_epoch": log["best_epoch"],
        "g_loss_last": float(last.g_loss),
        "d_loss_last": float(last.d_loss),
        "fid": final["fid"],
        "is": final["is"],
        "min_class_share": final["min_class_share"],
        "real_fid": real["fid"],
        "real_is": real["is"],
        "scoring_cnn_test_accuracy": clf_accuracy,
        "train_seconds": float(log["epochs"]["seconds"].sum()),
        "seconds_per_epoch": float(log["epochs"]["seconds"].median()),
    }
    if study is not None:
        spread, recipes = study["spread"], study["table"]
        out.update(fid_draw_std=float(spread["fid"].std()), is_draw_std=float(spread["is"].std()), draws=len(spread))
        out.update(
            recipes_epoch=int(recipes.attrs["epoch"]),
            recipes={
                name: {"fid": float(r.fid), "is": float(r["is"]), "seconds_per_epoch": float(r.seconds_per_epoch)}
                for name, r in recipes.iterrows()
            },
        )
    if drs is not None:
        q = drs["quality"]
        out.update(
            drs_gamma=drs["gamma"],
            drs_acceptance=drs["kept"],
            drs_is=q["is"],
            drs_fid=q["fid"],
            drs_min_class_share=q["min_class_share"],
        )
    if ddls is not None:
        q = ddls["quality"]
        out.update(
            ddls_scale=ddls["scale"],
            ddls_steps=ddls["steps"],
            ddls_step_size=step_size,
            ddls_is=q["is"],
            ddls_fid=q["fid"],
            ddls_min_class_share=q["min_class_share"],
            ddls_confident=q["confident"],
        )
    return out
