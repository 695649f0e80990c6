"""Properties of tracker.core checked with hypothesis on small random datasets."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import BANDS, POPULATION, UNITS, dataset_from_frames, make_config, make_dataset, make_target
from tracker import core
from tracker.ingest import read_table

CFG = make_config()
START = dt.date(2021, 9, 1)
LABELS = (*CFG.bands, *CFG.groups)  # what a report may carry: a band or a whole group
GROUPS = (*CFG.groups, *CFG.bands)  # what may be asked: a group or a band
THRESHOLDS = [Fraction(1, 2), Fraction(7, 10), Fraction(56, 100), Fraction(29, 100), Fraction(1)]
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def on(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


@st.composite
def reports(draw, first: int = 0, last: int = 40, labels=LABELS, max_series: int = 6, values=None):
    """(date, unit, label, dose, people_cumulative) with at most one report per series and day."""
    values = st.integers(0, 500) if values is None else values
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(UNITS), st.sampled_from(labels), st.sampled_from([1, 2])),
            unique=True,
            max_size=max_series,
        )
    )
    out = []
    for unit, label, dose in keys:
        offsets = draw(st.lists(st.integers(first, last), unique=True, min_size=1, max_size=6))
        out.extend((on(off), unit, label, dose, draw(values)) for off in offsets)
    return out


populations = st.fixed_dictionaries(
    {u: st.fixed_dictionaries({b: st.integers(1, 1_000_000) for b in BANDS}) for u in UNITS}
)


@st.composite
def targets(draw, as_of_offset: int):
    return make_target(
        group=draw(st.sampled_from(GROUPS)),
        dose=draw(st.sampled_from([1, 2])),
        threshold=draw(st.sampled_from(THRESHOLDS)),
        deadline=on(as_of_offset + draw(st.integers(-20, 40))),
    )


# --------------------------------------------------------------------------- (a) no look-ahead


@PROPERTY
@given(data=st.data(), as_of=st.integers(0, 40), categorical=st.booleans())
def test_figures_on_a_date_do_not_depend_on_later_reports(data, as_of, categorical):
    past = data.draw(reports(0, as_of), label="past")
    future = data.draw(reports(as_of + 1, as_of + 30), label="future")
    group = data.draw(st.sampled_from(GROUPS), label="group")
    dose = data.draw(st.sampled_from([1, 2]), label="dose")
    cfg = make_config([data.draw(targets(as_of), label="target")])
    known = make_dataset(reports=past, categorical=categorical)
    # later reports, interleaved with the past ones in the table
    everything = make_dataset(reports=sorted(past + future, key=lambda r: (r[1], r[0])), categorical=categorical)

    # values only: the dtype of `people` is checked in test_core (int64 when no report has the dose)
    same = dict(check_dtype=False)
    pd.testing.assert_frame_equal(
        core.coverage(known, cfg, on(as_of), group, dose),
        core.coverage(everything, cfg, on(as_of), group, dose),
        **same,
    )
    pd.testing.assert_frame_equal(
        core.evaluate(known, cfg, on(as_of)), core.evaluate(everything, cfg, on(as_of)), **same
    )
    days = [on(d) for d in range(max(0, as_of - 10), as_of + 1)]
    pd.testing.assert_frame_equal(
        core.people_at(known, cfg, group, dose, days), core.people_at(everything, cfg, group, dose, days), **same
    )


# --------------------------------------------------------------------------- (b) province = weighted mean


@settings(PROPERTY, max_examples=60)
@given(
    population=populations,
    rows=reports(values=st.integers(0, 2_000_000)),
    as_of=st.integers(0, 45),
    group=st.sampled_from(GROUPS),
    dose=st.sampled_from([1, 2]),
    categorical=st.booleans(),
)
def test_province_is_the_population_weighted_mean_of_units(population, rows, as_of, group, dose, categorical):
    ds = make_dataset(population=population, reports=rows, categorical=categorical)
    cov = core.coverage(ds, CFG, on(as_of), group, dose)
    units, total = cov.iloc[:-1], cov.iloc[-1]
    assert total["unit_code"] == core.TOTAL
    assert total["population"] == units["population"].sum()
    if units["people"].isna().any():
        assert math.isnan(total["people"]) and math.isnan(total["coverage"])
        assert all(code in total["reason"] for code in units.loc[units["people"].isna(), "unit_code"])
        return
    weighted = (units["population"] * units["coverage"]).sum() / units["population"].sum()
    assert math.isclose(total["coverage"], weighted, rel_tol=1e-12)
    assert total["people"] == units["people"].sum()
    assert bool(total["over_100"]) == (total["people"] > total["population"])


# --------------------------------------------------------------------------- (c) daily == cumulative


@st.composite
def daily_series(draw):
    """Daily new doses per series: {(unit, label, dose): [(date, doses), ...]} on distinct days."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(UNITS), st.sampled_from(LABELS), st.sampled_from([1, 2])),
            unique=True,
            min_size=1,
            max_size=5,
        )
    )
    out = {}
    for key in keys:
        offsets = sorted(draw(st.lists(st.integers(0, 40), unique=True, min_size=1, max_size=8)))
        out[key] = [(on(off), draw(st.integers(0, 300))) for off in offsets]
    return out


def _write(path: Path, header: str, rows) -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    return path


@PROPERTY
@given(
    series=daily_series(),
    as_of=st.integers(0, 45),
    group=st.sampled_from(GROUPS),
    dose=st.sampled_from([1, 2]),
    seed=st.randoms(),
)
def test_daily_and_cumulative_input_give_the_same_figures(series, as_of, group, dose, seed):
    daily_rows, cumulative_rows = [], []
    for (unit, label, dose), days in series.items():
        running = 0
        for date, doses in days:
            running += doses
            daily_rows.append((date.isoformat(), unit, label, dose, doses))
            cumulative_rows.append((date.isoformat(), unit, label, dose, running))
    order = list(range(len(daily_rows)))
    seed.shuffle(order)  # files need not be sorted
    daily_rows = [daily_rows[i] for i in order]
    cumulative_rows = [cumulative_rows[i] for i in order]

    with tempfile.TemporaryDirectory() as tmp:
        daily_path = _write(Path(tmp) / "daily.csv", "date,unit_code,age_band,dose,doses", daily_rows)
        cum_path = _write(
            Path(tmp) / "cumulative.csv", "date,unit_code,age_band,dose,people_cumulative", cumulative_rows
        )
        today = dt.date(2021, 12, 31)
        daily = read_table(daily_path, "vaccinations", CFG, known_units=set(UNITS), today=today)
        cumulative = read_table(cum_path, "vaccinations", CFG, known_units=set(UNITS), today=today)

    key = ["unit_code", "age_band", "dose", "date"]

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[[*key, "people_cumulative"]].astype({"unit_code": str, "age_band": str})
        return frame.sort_values(key).reset_index(drop=True)

    pd.testing.assert_frame_equal(canonical(daily.frame), canonical(cumulative.frame))

    ds_daily = dataset_from_frames(daily.frame, population=POPULATION)
    ds_cum = dataset_from_frames(cumulative.frame, population=POPULATION)
    pd.testing.assert_frame_equal(
        core.coverage(ds_daily, CFG, on(as_of), group, dose), core.coverage(ds_cum, CFG, on(as_of), group, dose)
    )
    cfg = make_config([make_target(group=group, dose=dose, threshold="0.7", deadline=on(30))])
    pd.testing.assert_frame_equal(core.evaluate(ds_daily, cfg, on(as_of)), core.evaluate(ds_cum, cfg, on(as_of)))


# --------------------------------------------------------------------------- (d) the rules, read directly


def reference_people(rows, unit: str, group: str, dose: int, as_of: dt.date) -> tuple[float, dt.date | None]:
    """people and last_report_date of one unit, straight from the rules (slow, obvious)."""
    wanted = set(CFG.group(group).bands)
    latest: dict[str, tuple[dt.date, int]] = {}
    for date, u, label, d, value in rows:
        if u == unit and d == dose and date <= as_of and (label not in latest or date > latest[label][0]):
            latest[label] = (date, value)
    people, covered, last, straddles = 0, [], None, False
    for label, (date, value) in latest.items():
        bands = set(CFG.group(label).bands)
        if bands <= wanted:
            people += value
            covered.extend(bands)
            last = date if last is None else max(last, date)
        elif bands & wanted:
            straddles = True
    if straddles or len(covered) != len(set(covered)):
        return math.nan, last
    return float(people), last


@settings(PROPERTY, max_examples=60)
@given(
    rows=reports(),
    as_of=st.integers(0, 45),
    group=st.sampled_from(GROUPS),
    dose=st.sampled_from([1, 2]),
    units=st.permutations(UNITS),
)
def test_coverage_follows_the_rules_read_directly(rows, as_of, group, dose, units):
    ds = make_dataset(units=units, reports=rows)
    cov = core.coverage(ds, CFG, on(as_of), group, dose)
    assert cov["unit_code"].tolist() == [*units, core.TOTAL]
    cov = cov.set_index("unit_code")
    expected = {u: reference_people(rows, u, group, dose, on(as_of)) for u in UNITS}
    for unit, (people, last) in expected.items():
        got = cov.loc[unit]
        if math.isnan(people):
            assert math.isnan(got["people"]) and got["reason"] != ""
            continue
        assert got["people"] == people
        assert got["reason"] == ""
        assert got["coverage"] == people / got["population"]
        assert pd.isna(got["last_report_date"]) if last is None else got["last_report_date"] == pd.Timestamp(last)
    if any(math.isnan(p) for p, _ in expected.values()):
        assert math.isnan(cov.loc[core.TOTAL, "people"])
    else:
        assert cov.loc[core.TOTAL, "people"] == sum(p for p, _ in expected.values())


# --------------------------------------------------------------------------- (e) target rules, read directly


def reference_status(people, before, at_deadline, population, target, as_of: dt.date) -> tuple[int, str]:
    """people_needed and status from the rules, in exact fractions."""
    need_total = math.ceil(target.threshold * population)
    needed = max(0, need_total - people)
    days_left = (target.deadline - as_of).days
    if days_left <= 0:
        return needed, "met" if at_deadline >= need_total else "missed"
    if needed == 0:
        return needed, "met"
    pace, required = Fraction(people - before, 7), Fraction(needed, days_left)
    if pace >= required:
        return needed, "on_track"
    return needed, "at_risk" if pace >= CFG.at_risk_ratio * required else "off_track"


@settings(PROPERTY, max_examples=60)
@given(
    data=st.data(),
    rows=reports(labels=BANDS, values=st.integers(0, 400)),
    as_of=st.integers(0, 45),
    units=st.permutations(UNITS),
)
def test_evaluate_follows_the_rules_read_directly(data, rows, as_of, units):
    target = data.draw(targets(as_of))
    ds = make_dataset(units=units, reports=rows)
    report = core.evaluate(ds, make_config([target]), on(as_of))
    assert report["unit_code"].tolist() == [*units, core.TOTAL]
    week_before, deadline = on(as_of) - dt.timedelta(days=7), target.deadline
    figures = {}
    for unit in units:
        figures[unit] = [
            int(reference_people(rows, unit, target.group, target.dose, when)[0])
            for when in (on(as_of), week_before, deadline)
        ]
    figures[core.TOTAL] = [sum(col) for col in zip(*figures.values(), strict=True)]
    pops = dict(zip(report["unit_code"], report["population"], strict=True))
    for _, row in report.iterrows():
        people, before, at_deadline = figures[row["unit_code"]]
        needed, status = reference_status(people, before, at_deadline, pops[row["unit_code"]], target, on(as_of))
        assert row["people"] == people
        assert row["people_needed"] == needed
        assert row["pace_7d"] == pytest.approx((people - before) / 7)
        assert row["status"] == status, row["unit_code"]
        gained = people - before
        if needed > 0 and gained > 0:
            assert row["projected_date"] == pd.Timestamp(on(as_of) + dt.timedelta(days=-(-7 * needed // gained)))
        else:
            assert pd.isna(row["projected_date"])
