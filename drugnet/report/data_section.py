"""Report section "Data": intake counts, rejects by reason, split sizes and label balance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from drugnet.report import html as H
from drugnet.report import plots
from drugnet.report.inputs import (
    datasets,
    libraries,
    read_csv,
    read_json,
    task_and_targets,
)

SUMMARY_FIELDS = (
    "rows_read",
    "accepted_unique",
    "merged_rows",
    "rejected",
    "label_conflicts",
    "wall_seconds",
)


def intake_row(kind: str, name: str, folder: Path) -> dict | None:
    """One row of the intake table from ``standardize_summary.json`` (None when absent)."""
    summary = read_json(folder / "standardize_summary.json")
    if summary is None:
        return None
    return {"kind": kind, "name": name, **{f: summary.get(f) for f in SUMMARY_FIELDS}}


def reject_reasons(folder: Path, examples: int = 1) -> pd.DataFrame | None:
    """``reason, n, example_row, example_input`` from ``rejects.csv`` (full reasons incl. the
    column), else from ``rejects_by_reason`` of the summary; None when neither exists."""
    rejects = read_csv(folder / "rejects.csv")
    if rejects is not None and "reason" in rejects:
        if rejects.empty:
            return pd.DataFrame(columns=["reason", "n", "example_row", "example_input"])
        grouped = rejects.groupby("reason", sort=False)
        out = pd.DataFrame(
            {
                "n": grouped.size(),
                "example_row": grouped["row"].first() if "row" in rejects else None,
                "example_input": grouped["input_smiles"]
                .first()
                .fillna("")
                .astype(str)
                .str.slice(0, 60)
                if "input_smiles" in rejects
                else "",
            }
        ).reset_index()
        return out.sort_values(["n", "reason"], ascending=[False, True], ignore_index=True)
    summary = read_json(folder / "standardize_summary.json")
    if summary and "rejects_by_reason" in summary:
        by_reason = summary["rejects_by_reason"]
        return pd.DataFrame({"reason": list(by_reason), "n": list(by_reason.values())})
    return None


def split_sizes(folder: Path) -> pd.DataFrame | None:
    """``split, n, fraction`` from ``split.csv``."""
    split = read_csv(folder / "split.csv")
    if split is None or "split" not in split:
        return None
    counts = split["split"].value_counts()
    order = [s for s in ("train", "val", "test") if s in counts.index] + [
        s for s in counts.index if s not in ("train", "val", "test")
    ]
    counts = counts.reindex(order)
    return pd.DataFrame(
        {"split": order, "n": counts.to_numpy(), "fraction": (counts / counts.sum()).to_numpy()}
    )


def label_balance(
    standardized: pd.DataFrame, targets: list[str], task: str | None, split: pd.Series | None = None
) -> pd.DataFrame:
    """Per task: classification ``task, labelled, positive, negative, missing, positive_rate``
    (plus ``test_positive`` when ``split`` is given); regression
    ``task, labelled, missing, mean, std, min, max``."""
    rows = []
    for target in targets:
        if target not in standardized:
            continue
        values = pd.to_numeric(standardized[target], errors="coerce")
        labelled = int(values.notna().sum())
        if task == "regression":
            rows.append(
                {
                    "task": target,
                    "labelled": labelled,
                    "missing": int(values.isna().sum()),
                    "mean": values.mean(),
                    "std": values.std(),
                    "min": values.min(),
                    "max": values.max(),
                }
            )
            continue
        positive = int((values == 1).sum())
        row = {
            "task": target,
            "labelled": labelled,
            "positive": positive,
            "negative": int((values == 0).sum()),
            "missing": int(values.isna().sum()),
            "positive_rate": positive / labelled if labelled else float("nan"),
        }
        if split is not None and len(split) == len(values):
            row["test_positive"] = int(
                ((split.to_numpy() == "test") & (values.to_numpy() == 1)).sum()
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _dataset_block(name: str, config: Mapping, folder: Path) -> str:
    parts = [f"<h3>dataset {H.esc(name)}</h3>"]
    summary = read_json(folder / "standardize_summary.json")
    reasons = reject_reasons(folder)
    if reasons is not None:
        parts.append("<h4>rejected rows by reason</h4>")
        parts.append(H.table(reasons, max_rows=30) if len(reasons) else H.note("no rejected rows"))
    sizes = split_sizes(folder)
    parts.append("<h4>split sizes</h4>")
    parts.append(
        H.table(sizes) if sizes is not None else H.missing(f"{folder / 'split.csv'} not found")
    )
    task, targets = task_and_targets(config, name, summary)
    standardized = read_csv(folder / "standardized.csv")
    parts.append(f"<h4>label balance ({H.esc(task or 'task unknown')})</h4>")
    if standardized is None:
        parts.append(H.missing(f"{folder / 'standardized.csv'} not found"))
    elif not targets:
        parts.append(H.note("no targets configured"))
    else:
        split = read_csv(folder / "split.csv")
        split_col = (
            split["split"]
            if split is not None and "split" in split and len(split) == len(standardized)
            else None
        )
        balance = label_balance(standardized, targets, task, split_col)
        parts.append(H.table(balance))
        if task != "regression" and len(balance):
            parts.append(
                H.figure(
                    plots.label_balance(balance),
                    "labels per task (structures after merging duplicates)",
                )
            )
    return "\n".join(parts)


def data_section(config: Mapping, results: Path) -> H.Section:
    """Intake table for every dataset, external test set and library; per dataset rejects, splits,
    labels."""
    rows, blocks = [], []
    for name in datasets(config, results):
        folder = results / name
        for kind, sub, label in (
            ("dataset", folder, name),
            ("external test", folder / "external_test", name),
        ):
            row = intake_row(kind, label, sub)
            if row is not None:
                rows.append(row)
            elif kind == "dataset":
                rows.append({"kind": kind, "name": label, "rows_read": "not run"})
        blocks.append(_dataset_block(name, config, folder))
    for name in libraries(config, results):
        folder = results / "libraries" / name
        row = intake_row("library", name, folder)
        rows.append(
            row if row is not None else {"kind": "library", "name": name, "rows_read": "not run"}
        )
        reasons = reject_reasons(folder)
        if reasons is not None and len(reasons):
            blocks.append(
                f"<h3>library {H.esc(name)}</h3><h4>rejected rows by reason</h4>"
                + H.table(reasons, max_rows=30)
            )
    if not rows:
        return H.Section("data", "Data", H.missing("no datasets or libraries configured or found"))
    intake = pd.DataFrame(rows).reindex(columns=["kind", "name", *SUMMARY_FIELDS])
    body = [
        H.note(
            "rows_read: input rows; accepted_unique: distinct standardized parents (InChIKey); "
            "merged_rows: accepted rows folded into an earlier duplicate; rejected: rows dropped "
            "with a reason."
        ),
        H.table(intake),
        *blocks,
    ]
    return H.Section("data", "Data", "\n".join(body))
