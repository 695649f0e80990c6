"""What every figure needs besides the reports, read without pandas (as numpy arrays): the units, the population,
whether the data is the sample and its labels. `tracker report` computes from these (tracker.evaluation) and
starts in a third of the time a Dataset's frames cost; open_dataset (tracker.store.dataset) reads the same
queries into frames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tracker.reports import Reports
from tracker.store.connection import reading
from tracker.store.migrations import DROPS

UNITS_SQL = "SELECT unit_code, unit_name, unit_type, lat, lon FROM units ORDER BY unit_code"
POPULATION_SQL = "SELECT unit_code, age_band, population FROM population"
SAMPLE_SQL = "SELECT coalesce(bool_or(sample), false) FROM drops WHERE status = 'active'"
META_SQL = "SELECT key, value FROM meta"


@dataclass
class Basics:
    """The units (codes and names, in code order), the population table's columns, the sample flag, the meta
    table (the dataset's labels) and the reports, asked in SQL."""

    codes: np.ndarray  # text
    names: np.ndarray  # text
    population: tuple[np.ndarray, np.ndarray, np.ndarray]  # unit codes, age bands, counts
    sample: bool
    extra: dict
    reports: Reports

    @cached_property
    def latest_date(self) -> dt.date | None:
        return self.reports.bounds()[1]


def read_basics(store: Path) -> Basics:
    store = Path(store)
    with reading(store, since=DROPS) as con:
        units = con.execute(UNITS_SQL).fetchnumpy()
        pop = con.execute(POPULATION_SQL).fetchnumpy()
        sample = bool(con.execute(SAMPLE_SQL).fetchall()[0][0])
        meta = dict(con.execute(META_SQL).fetchall())
    population = (pop["unit_code"], pop["age_band"], pop["population"])
    return Basics(units["unit_code"], units["unit_name"], population, sample, meta, Reports(store=store))
