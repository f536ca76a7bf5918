"""Pure incident-memory functions: fingerprints, ranking, timelines, lead time, precision, escaping."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from flarewatch.analysis.memory import (
    Fingerprint,
    alert_precision,
    build_timeline,
    fingerprint,
    lead_minutes,
    lead_sentence,
    rank_similar,
    stack_vectors,
)
from flarewatch.domain import IncidentRecord, TimelineEntry
from flarewatch.render.postmortem import md_escape
from tests.conftest import T0


def test_fingerprint__unit_mean_and_top_terms_without_brand():
    texts = ["acme lost my bag", "bag lost again acme", "where is my bag"]
    vectors = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    found = fingerprint(texts, vectors, stop_terms=["acme"])
    assert np.allclose(found.vector, np.array([2.0, 1.0]) / np.sqrt(5.0))
    assert found.terms[0] == "bag" and "acme" not in found.terms and found.posts == 3
    assert fingerprint([], np.zeros((0, 2))) is None
    assert np.allclose(stack_vectors([found.to_bytes(), found.to_bytes()])[1], found.vector)


def test_rank_similar__cosine_then_terms_skips_other_dimensions():
    query = Fingerprint(np.array([1.0, 0.0]), ["refund"], 5)
    matrix = np.array([[0.0, 1.0], [0.9, 0.1], [0.9, 0.1]])
    terms = [["refund"], [], ["refund"]]
    ranked = rank_similar(query, [1, 2, 3], matrix, terms, top=3)
    assert [i for i, _ in ranked] == [3, 2, 1]
    assert ranked[0][1] == pytest.approx(0.9939 + 0.15, abs=1e-3) and ranked[1][1] < ranked[0][1]
    assert rank_similar(query, [4], np.ones((1, 3)), [["refund"]]) == []
    assert rank_similar(query, [], stack_vectors([]), []) == []


def test_build_timeline__own_events_and_manual_entries_in_order():
    incident = IncidentRecord(
        1, "t", "acme", None, "SEV2", "resolved", T0, T0 + timedelta(hours=2), archived_at=None
    )
    signals = {
        "first_signal": T0 - timedelta(minutes=40),
        "first_warning": T0 - timedelta(minutes=25),
        "first_update": T0 + timedelta(minutes=10),
    }
    manual = [TimelineEntry(T0 + timedelta(minutes=5), "Rolled back", "manual", 7)]
    events = [e.event for e in build_timeline(incident, signals, manual)]
    assert events == [
        "First social signal: negative posts above baseline",
        "Flarewatch early warning: possible incident",
        "Incident declared (opened)",
        "Rolled back",
        "First public status update",
        "Incident resolved",
    ]


def test_lead_time__sentence_both_ways_and_without_signal():
    assert lead_minutes(T0 - timedelta(minutes=42), T0) == 42.0
    assert lead_sentence(42.0) == "Customers were talking 42 minutes before we declared it."
    assert lead_sentence(-5.0) == "We declared it 5 minutes before customers were talking."
    assert lead_sentence(lead_minutes(None, T0)).startswith("No social signal")


def test_alert_precision__per_brand_and_month():
    rows = pd.DataFrame(
        [
            ("acme", T0, "useful"),
            ("acme", T0 + timedelta(days=1), "noise"),
            ("acme", T0 + timedelta(days=1), "useful"),
            ("acme", T0 + timedelta(days=40), "noise"),
            (None, T0, "useful"),
        ],
        columns=["brand", "started_at", "feedback"],
    )
    table = alert_precision(rows)
    assert table.to_dict("records") == [
        {"brand": "(all brands)", "month": "2026-03", "useful": 1, "noise": 0, "precision": 1.0},
        {"brand": "acme", "month": "2026-03", "useful": 2, "noise": 1, "precision": 0.667},
        {"brand": "acme", "month": "2026-04", "useful": 0, "noise": 1, "precision": 0.0},
    ]
    assert alert_precision(rows.iloc[0:0]).empty


def test_md_escape__links_html_emphasis_and_headings_stay_text():
    nasty = "# Big\n- item\n<script>alert(1)</script> [x](http://evil) **b** `c` | d & e\n1. one"
    rendered = MarkdownIt("commonmark").enable("table").render(md_escape(nasty))
    assert "<script>" not in rendered and "<a " not in rendered and "<strong>" not in rendered
    assert "<h1>" not in rendered and "<li>" not in rendered and "<code>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered and "d &amp; e" in rendered
    assert md_escape(None) == ""
