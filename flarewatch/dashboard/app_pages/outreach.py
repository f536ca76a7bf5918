"""Outreach page: unhappy authors ranked by priority, filters, edits saved as made, CSV export."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import pandas as pd
import streamlit as st

from flarewatch import api
from flarewatch.dashboard import data, state
from flarewatch.domain import OUTREACH_STATUSES, OutreachFilter

EDITABLE = ("status", "assignee", "note")
SHOWN = "outreach_shown"
VERSION = "outreach_version"
# Support's own columns come right after the handle, where they are seen without scrolling.
COLUMNS = [
    "priority",
    "handle",
    "status",
    "assignee",
    "note",
    "platform",
    "followers",
    "negative_posts",
    "reason",
    "latest_post",
    "latest_url",
]
DRAFTS = "outreach_drafts"
KINDS = {"Reply": "reply", "Follow-up (incident resolved)": "followup"}


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def answer_metrics(incident_id: int) -> None:
    """Answered share of priority authors, time to first answer, followed up, won back."""
    found = data.answers(incident_id)
    wait = found["median_minutes_to_first_answer"]
    cols = st.columns(4)
    cols[0].metric("Priority authors answered", _share(found["answered_share"]))
    cols[1].metric("Median time to first answer", "—" if wait is None else f"{wait:.0f} min")
    cols[2].metric("Followed up", str(found["followed_up"]))
    cols[3].metric("Won back", _share(found["recovered_share"]))
    waiting = int(found["answered_authors"]) - int(found["followed_up"])
    incident = state.selected_incident()
    if waiting > 0 and incident is not None and incident["status"] in ("resolved", "closed"):
        st.info(
            f"The incident is resolved: {waiting} answered author(s) await a follow-up "
            "(Answer selected authors → Follow-up)."
        )


def _label(row: pd.Series) -> str:
    return f"@{row['handle']} ({row['platform']}, priority {row['priority']:.0f})"


def answer_form(incident_id: int, shown: pd.DataFrame) -> None:
    """Pick authors, preview the replies, confirm and send them (a dry run until confirmed)."""
    labels = {_label(row): int(row["author_id"]) for _, row in shown.iterrows()}
    opened = bool(st.session_state.get(DRAFTS)) or "answer_result" in st.session_state
    with st.expander("Answer selected authors", expanded=opened):
        picked = st.multiselect("Authors", list(labels), key="answer_authors")
        kind = KINDS[st.radio("Kind", list(KINDS), horizontal=True, key="answer_kind")]
        template = st.text_area(
            "Template", api.REPLY_TEMPLATES[kind], key=f"answer_template_{kind}"
        )
        cols = st.columns(2)
        status_url = cols[0].text_input("{status_url}", data.settings().status_page_url or "")
        next_update = cols[1].text_input("{next_update}", key="answer_next_update")
        if st.button("Preview", key="answer_preview"):
            try:
                st.session_state[DRAFTS] = data.draft_answers(
                    incident_id,
                    [labels[p] for p in picked],
                    kind,
                    template,
                    status_url or None,
                    next_update or None,
                )
            except ValueError as exc:
                st.session_state.pop(DRAFTS, None)
                st.error(str(exc))
        send_form(incident_id)


def send_form(incident_id: int) -> None:
    """The previewed drafts, who sends and approves, and the confirmed send."""
    if (result := st.session_state.get("answer_result")) is not None:
        st.dataframe(result, hide_index=True, key="answer_results")
    drafts = st.session_state.get(DRAFTS)
    if not drafts:
        return
    st.dataframe(api.drafts_frame(drafts), hide_index=True, key="answer_drafts")
    cols = st.columns(2)
    sender = cols[0].text_input("Sent by", key="answer_sender")
    approved_by = cols[1].text_input("Approved by (a second person)", key="answer_approver")
    confirm = st.checkbox("Post these replies publicly", key="answer_confirm")
    if st.button("Send", key="answer_send", disabled=not (confirm and sender)):
        try:
            result = data.send_answers(incident_id, drafts, sender, approved_by or None)
        except ValueError as exc:
            st.error(str(exc))
            return
        st.session_state.pop(DRAFTS, None)
        st.session_state["answer_result"] = result
        st.rerun()


def chosen_filter() -> OutreachFilter:
    """The filters as last set (they stick across pages): the database applies them."""
    state.default("keep_outreach_status", ["new", "contacted"])
    state.default("keep_outreach_min_priority", 0)
    return OutreachFilter(
        statuses=tuple(st.session_state["keep_outreach_status"] or ()),
        platforms=tuple(st.session_state.get("keep_outreach_platform") or ()),
        min_priority=float(st.session_state["keep_outreach_min_priority"]),
        handle=str(st.session_state.get("keep_outreach_search") or ""),
    )


def filters(offered: list[str]) -> None:
    """Status, platform, priority and handle filters; a change reruns the page with them."""
    cols = st.columns([4, 2, 2, 3])
    cols[0].pills("Status", OUTREACH_STATUSES, selection_mode="multi", key="keep_outreach_status")
    cols[1].pills("Platform", offered, selection_mode="multi", key="keep_outreach_platform")
    cols[2].slider("Priority at least", 0, 100, key="keep_outreach_min_priority")
    cols[3].text_input("Handle contains", key="keep_outreach_search")


def ranked_page(incident_id: int) -> api.OutreachPage:
    """The page for the chosen filters, forgetting platforms this incident does not offer."""
    where = chosen_filter()
    page = data.outreach_page(incident_id, where)
    offered = state.only_options("keep_outreach_platform", page.platforms)
    kept = tuple(p for p in where.platforms if p in offered)
    if kept != where.platforms:
        page = data.outreach_page(incident_id, replace(where, platforms=kept))
    return page


def save_edits(incident_id: int, editor_key: str) -> None:
    """Persist the rows just edited in the table (a data_editor callback)."""
    shown: pd.DataFrame = st.session_state[SHOWN]
    edits: dict[int, dict[str, object]] = st.session_state[editor_key]["edited_rows"]
    for position, change in edits.items():
        row = {**shown.iloc[int(position)][list(EDITABLE)].to_dict(), **change}
        data.save_outreach(
            incident_id,
            int(shown.iloc[int(position)]["author_id"]),
            str(row["status"]),
            row["assignee"],
            row["note"],
        )
    # A fresh editor key drops the applied edits: the table now shows what the database holds.
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    st.session_state["outreach_saved"] = len(edits)


def editor(incident_id: int, shown: pd.DataFrame) -> None:
    """The editable ranked table; each edit is saved to the database at once."""
    st.session_state[SHOWN] = shown
    key = f"outreach_{incident_id}_{st.session_state.get(VERSION, 0)}"
    st.data_editor(
        shown,
        hide_index=True,
        key=key,
        on_change=save_edits,
        args=(incident_id, key),
        column_order=COLUMNS,
        disabled=[c for c in shown.columns if c not in EDITABLE],
        column_config={
            "status": st.column_config.SelectboxColumn(
                options=list(OUTREACH_STATUSES), required=True
            ),
            "priority": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
            "latest_post": st.column_config.TextColumn("latest complaint", width="large"),
            "latest_url": st.column_config.LinkColumn("link", display_text="open"),
            "reason": st.column_config.TextColumn(width="medium"),
        },
    )
    if saved := st.session_state.pop("outreach_saved", 0):
        st.toast(f"Saved {saved} row(s).")


def body() -> None:
    """The refreshing part: filters, the table and the export."""
    incident = state.selected_incident()
    if incident is None:
        return
    incident_id = int(incident.name)
    page = ranked_page(incident_id)
    st.caption(f"{page.authors} unhappy authors; {page.not_contacted} not contacted yet.")
    answer_metrics(incident_id)
    filters(page.platforms)
    if page.matching > len(page.rows):
        st.caption(
            f"Showing the {len(page.rows)} highest priorities of {page.matching} matching "
            "authors: narrow the filters, or download them all."
        )
    editor(incident_id, data.with_complaints(incident_id, page.rows))
    answer_form(incident_id, page.rows)
    st.download_button(
        f"Download CSV ({page.matching} rows)",
        partial(data.outreach_export, incident_id, chosen_filter()),
        file_name=f"outreach_incident_{incident_id}.csv",
        mime="text/csv",
        on_click="ignore",
    )


def render() -> None:
    """Render the ranked outreach table for the selected incident."""
    st.title("Outreach")
    if state.selected_incident() is None:
        st.info("No incident selected.")
        return
    state.live(body)


render()
