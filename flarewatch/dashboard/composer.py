"""The Incidents page's update composer: preview per destination, drafts, approval, publishing."""

from __future__ import annotations

import getpass

import pandas as pd
import streamlit as st

from flarewatch.dashboard import data

PAGE_STATUSES = ("investigating", "identified", "monitoring", "resolved")


def _user() -> str:
    return st.text_input("You are", value=data.settings().user or getpass.getuser(), key="fw_user")


def _preview(text: str, accounts: dict[str, str]) -> bool:
    """Each destination's posts side by side; False when one cannot take the text."""
    shown = data.preview_update(text, accounts) if text.strip() else []
    ok = bool(shown)
    for column, preview in zip(st.columns(max(1, len(shown))), shown, strict=False):
        with column:
            st.markdown(f"**{preview.destination}** · {preview.account}")
            if preview.error:
                st.error(preview.error)
                ok = False
            for part, size in zip(preview.parts, preview.measured, strict=True):
                st.caption(f"{size}/{preview.limit or '–'} {preview.unit}")
                st.text(part)
    return ok


def compose(incident: pd.Series) -> None:
    """Write an update from the template, preview it per destination and store it as drafts."""
    incident_id = int(incident.name)
    accounts = data.own_accounts(incident["brand"])
    st.subheader("Public update")
    if not accounts:
        st.info("Name the brand's own accounts in the watch file ([brands.own]) to publish.")
        return
    cols = st.columns(3)
    fields = {
        "affected": cols[0].text_input("What is affected", key=f"affected_{incident_id}"),
        "doing": cols[1].text_input("What we are doing", key=f"doing_{incident_id}"),
        "next_update": cols[2].text_input("Next update by", key=f"next_{incident_id}"),
    }
    text = st.text_area(
        "Update", value=data.compose_update(incident_id, fields), key=f"text_{incident_id}"
    )
    chosen = st.multiselect("Destinations", list(accounts), default=list(accounts))
    picked = {d: accounts[d] for d in chosen}
    user = _user()
    if _preview(text, picked) and st.button("Save as draft", key=f"draft_{incident_id}"):
        data.draft_update(incident_id, text, picked, user)
        st.rerun()
    drafts(incident_id, user)


def drafts(incident_id: int, user: str) -> None:
    """Stored updates; approve another user's draft; publish after explicit confirmation."""
    items = data.outbound(incident_id)
    if items.empty:
        return
    st.dataframe(
        items[
            ["id", "destination", "status", "drafted_by", "approved_by", "sent_at", "url", "error"]
        ],
        hide_index=True,
        key=f"outbound_{incident_id}",
    )
    waiting = items.loc[(items["status"] == "draft") & (items["drafted_by"] != user), "id"]
    cols = st.columns([2, 1], vertical_alignment="bottom")
    pick = cols[0].selectbox("Draft to approve", waiting.tolist(), index=None)
    if pick is not None and cols[1].button("Approve", key=f"approve_{incident_id}"):
        data.approve_update(int(pick), user)
        st.rerun()
    unsent = items.loc[items["status"] != "sent"]
    if unsent.empty:
        return
    page_status = st.selectbox("Statuspage status", PAGE_STATUSES, key=f"page_{incident_id}")
    sure = st.checkbox(
        f"Send {len(unsent)} update(s) to the public now", key=f"confirm_{incident_id}"
    )
    if st.button("Publish", type="primary", disabled=not sure, key=f"publish_{incident_id}"):
        for row in data.publish_update(incident_id, page_status):
            if row["status"] == "sent":
                st.success(f"{row['destination']}: sent {row['url'] or ''}")
            else:
                st.error(f"{row['destination']}: {row['error']}")
