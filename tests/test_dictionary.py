"""The data dictionary in docs/ matches the models' own descriptions, and every output column is described."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT
from reewatch.curate import models
from reewatch.dictionary import render


def test_docs_data_dictionary_is_in_sync() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render(), "run: .venv/bin/python -m reewatch.dictionary > docs/data-dictionary.md"


def test_every_curated_column_is_described(tmp_path: Path) -> None:
    import duckdb

    from reewatch.warehouse import migrate

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con)
    con.execute("CREATE SCHEMA curated")
    for model in models():
        con.execute(f"CREATE TABLE curated.{model.name} AS {model.sql}")
        columns = [row[0] for row in con.execute(f"DESCRIBE curated.{model.name}").fetchall()]
        assert model.description, model.name
        assert set(columns) == set(model.columns), (model.name, set(columns) ^ set(model.columns))
