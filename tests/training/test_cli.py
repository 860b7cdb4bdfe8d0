"""Retraining from a user's own export, through the documented command."""

import json
from pathlib import Path

import pandas as pd

from training import artifacts
from training.__main__ import main


def _export(path: Path) -> None:
    ham = [
        f"Thanks for the write-up on {topic}, it saved me an afternoon."
        for topic in ("sourdough", "tomatoes", "rust lifetimes", "postgres vacuum", "bike chains")
    ] * 8
    spam = [
        f"Best {thing} at http://{thing.replace(' ', '-')}-deals.shop call 1-888-555-01{i:02d}"
        for i, thing in enumerate(("cheap pills", "casino bonus", "seo links", "crypto", "loans"))
    ] * 8
    rows = [{"comment_body": t, "is_spam": "ham"} for t in ham]
    rows += [{"comment_body": f"{t} #{i}", "is_spam": "spam"} for i, t in enumerate(spam)]
    pd.DataFrame(rows).to_csv(path, index=False)


def test_train_on_own_csv_writes_a_new_version_and_promotes_it(tmp_path: Path, capsys) -> None:
    export = tmp_path / "moderated.csv"
    _export(export)
    models = tmp_path / "models"
    code = main(
        [
            "-q",
            "train",
            "--no-default-data",
            "--data",
            str(export),
            "--map",
            "content=comment_body,label=is_spam",
            "--models-dir",
            str(models),
            "--promote",
        ]
    )
    assert code == 0
    version = artifacts.current_version(models)
    assert version
    card = json.loads((models / version / "card.json").read_text())
    assert card["data"]["sources"][0]["name"] == "moderated"
    assert card["data"]["rows"] == 80
    assert "held-out" in capsys.readouterr().out


def test_bad_export_fails_with_a_clear_message(tmp_path: Path, capsys) -> None:
    export = tmp_path / "bad.csv"
    export.write_text("text,label\nhello,perhaps\n")
    code = main(
        [
            "-q",
            "train",
            "--no-default-data",
            "--data",
            str(export),
            "--map",
            "content=text",
            "--models-dir",
            str(tmp_path / "m"),
        ]
    )
    assert code == 2
    assert "bad.csv: row 2, column 'label'" in capsys.readouterr().err
