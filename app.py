"""Dashboard entry point: the province headline for each target of Kế hoạch 174/KH-UBND.

Thin by design: read the store through tracker/, compute with tracker/core, render.
"""

from __future__ import annotations

import streamlit as st

from tracker import core, fmt, store
from tracker.config import load_config, store_dir

STATUS_VI = {
    "met": "Đạt",
    "missed": "Không đạt",
    "on_track": "Đúng tiến độ",
    "at_risk": "Có nguy cơ chậm",
    "off_track": "Chậm tiến độ",
    "unavailable": "Không có số liệu",
}
DOSE_VI = {1: "≥ 1 mũi", 2: "đủ liều cơ bản", 3: "mũi nhắc lại thứ nhất", 4: "mũi nhắc lại thứ hai"}
STATUS_COLOR = {
    "met": "green",
    "on_track": "green",
    "at_risk": "orange",
    "off_track": "red",
    "missed": "red",
    "unavailable": "gray",
}

st.set_page_config(page_title="Tiêm chủng COVID-19 — Tuyên Quang", page_icon="💉", layout="wide")


@st.cache_resource
def _config():
    return load_config()


@st.cache_resource(show_spinner=False)
def _ensure_store(folder: str) -> None:
    store.init(folder, _config())


@st.cache_resource(max_entries=2, show_spinner="Đang tải số liệu…")
def _dataset(folder: str, version: str) -> store.Dataset:
    return store.load(folder)


@st.cache_data(max_entries=64)
def _report(folder: str, version: str, as_of):
    return core.evaluate(_dataset(folder, version), _config(), as_of)


def main() -> None:
    cfg = _config()
    folder = str(store_dir())
    _ensure_store(folder)
    version = store.version(folder)
    ds = _dataset(folder, version)

    st.title(f"Tiến độ tiêm vắc xin phòng COVID-19 tỉnh {cfg.province_name_vi}")
    st.caption("Theo Kế hoạch 174/KH-UBND ngày 12/10/2021 của UBND tỉnh Tuyên Quang")
    if ds.sample:
        st.warning(ds.extra.get("dataset_label_vi", "Số liệu mẫu minh họa, không phải số liệu chính thức"), icon="⚠️")
    if ds.latest_date is None:
        st.info("Chưa có số liệu tiêm chủng. Dùng `tracker ingest` để nạp số liệu.")
        return

    first = ds.vaccinations["date"].min().date()
    as_of = st.sidebar.date_input(
        "Số liệu đến ngày", value=ds.latest_date, min_value=first, max_value=ds.latest_date, format="DD/MM/YYYY"
    )
    st.markdown(f"**Số liệu đến ngày {fmt.date(as_of)}**")
    report = _report(folder, version, as_of)
    province = report[report["unit_code"] == core.TOTAL].set_index("target_id")
    columns = st.columns(len(cfg.targets))
    for col, target in zip(columns, cfg.targets, strict=True):
        row = province.loc[target.id]
        with col, st.container(border=True):
            st.subheader(target.label_vi)
            st.metric(f"Tỷ lệ bao phủ toàn tỉnh ({DOSE_VI[target.dose]})", fmt.percent(row["coverage"]))
            st.caption(f"Mục tiêu {fmt.percent(float(target.threshold), decimals=0)} trước {fmt.date(target.deadline)}")
            status = row["status"]
            st.markdown(f"Trạng thái: :{STATUS_COLOR[status]}[**{STATUS_VI[status]}**]")
            if row["days_left"] <= 0:
                st.markdown(
                    f"- Đã qua hạn chót; tỷ lệ tại hạn chót: **{fmt.percent(row['coverage_at_deadline'])}**\n"
                    f"- Số người còn thiếu đến nay: **{fmt.number(row['people_needed'])}**"
                )
            else:
                st.markdown(
                    f"- Số người cần tiêm thêm: **{fmt.number(row['people_needed'])}**\n"
                    f"- Số ngày còn lại: **{fmt.number(row['days_left'])}**\n"
                    f"- Tốc độ 7 ngày: **{fmt.number(row['pace_7d'], decimals=1)}** người/ngày; "
                    f"cần **{fmt.number(row['required_daily'], decimals=1)}** người/ngày\n"
                    f"- Dự kiến đạt: **{fmt.date(row['projected_date'])}**"
                )
    st.caption("Trang tổng quan, bản đồ và xu hướng đầy đủ sẽ có trong các phiên bản sau.")


main()
