import json
from pathlib import Path

import pandas as pd
import pytest

from training.data import DataError, load_labelled, parse_mapping


def _rows() -> list[dict[str, str]]:
    return [
        {"body": "Great recipe, thanks!", "is_spam": "no", "who": "Ana"},
        {"body": "cheap pills http://x.shop", "is_spam": "yes", "who": "rx"},
    ]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_loads_every_format_with_a_column_mapping(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"export{suffix}"
    frame = pd.DataFrame(_rows())
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in _rows()) + "\n")
    else:
        frame.to_parquet(path)
    mapping = parse_mapping("content=body,label=is_spam,author_name=who")
    loaded = load_labelled(path, mapping=mapping)
    assert loaded["label"].tolist() == [0, 1]
    assert loaded["author_name"].tolist() == ["Ana", "rx"]
    assert loaded["author_email"].tolist() == ["", ""]
    assert loaded["source"].iloc[0] == "export"


def test_missing_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"x\.csv.*'content'"):
        load_labelled(path)


def test_bad_label_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    rows = [*_rows(), {"body": "hello", "is_spam": "maybe", "who": ""}]
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"x\.csv: row 4, column 'is_spam': label 'maybe'"):
        load_labelled(path, mapping={"content": "body", "label": "is_spam"})


def test_empty_content_is_rejected_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"content": "ok", "label": 1}\n{"content": "  ", "label": 0}\n')
    with pytest.raises(DataError, match=r"row 2, column 'content': content is empty"):
        load_labelled(path)


def test_bad_mapping_is_rejected() -> None:
    with pytest.raises(DataError, match="unknown field 'body'"):
        parse_mapping("body=content")
