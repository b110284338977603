"""The sidebar's upload: a bad file shows the core's error and keeps the data; a good one switches."""

import re

import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import three, write_three_class_csv

pytestmark = pytest.mark.e2e


def test_bad_upload_shows_error_and_keeps_data(dash, digits_ev, tmp_path):
    bad = tmp_path / "no_labels.csv"
    bad.write_text("id,prediction,score_0,score_1\na,0,0.9,0.1\nb,1,0.2,0.8\n")
    with pytest.raises(evaldash.InputError) as core_error:
        evaldash.load_predictions(bad)
    problem = str(core_error.value).split(": ", 1)[1]  # the core's message, without the file's path
    assert "label" in problem
    n = digits_ev.dataset.n

    dash.open("/")
    expect(dash.metric("Samples")).to_have_text(f"{n:,}")
    dash.upload(bad)

    error = dash.sidebar.locator('[data-testid="stAlert"]')
    expect(error).to_have_count(1)
    expect(error).to_contain_text(problem)
    # the message names the uploaded file, not where the server stored it
    expect(error.locator('[data-testid="stMarkdownContainer"]')).to_contain_text(re.compile(r"^no_labels\.csv: "))
    expect(dash.metric("Samples")).to_have_text(f"{n:,}")
    expect(dash.metric("Accuracy")).to_have_text(three(digits_ev.accuracy))
    expect(dash.sidebar).to_contain_text(f"{n:,} samples · {digits_ev.dataset.n_classes} classes")
    expect(dash.exceptions).to_have_count(0)


def test_good_upload_switches_data(dash, digits_ev, tmp_path):
    good = write_three_class_csv(tmp_path / "three_classes.csv")
    ev = evaldash.evaluate(evaldash.load_predictions(good))
    assert ev.dataset.n != digits_ev.dataset.n

    dash.open("/")
    expect(dash.metric("Samples")).to_have_text(f"{digits_ev.dataset.n:,}")
    dash.upload(good)

    expect(dash.metric("Samples")).to_have_text(f"{ev.dataset.n:,}")
    expect(dash.metric("Classes")).to_have_text("3")
    expect(dash.metric("Accuracy")).to_have_text(three(ev.accuracy))
    expect(dash.sidebar).to_contain_text(f"{ev.dataset.n:,} samples · 3 classes")
    # the active file is the upload (the sidebar names it), and the open panel has closed
    expect(dash.sidebar.locator(".st-key-active_run input")).to_have_value(re.compile(re.escape(good.name)))
    expect(dash.sidebar.locator(".st-key-upload")).to_have_count(0)
    expect(dash.sidebar.locator('[data-testid="stAlert"]')).to_have_count(0)
    # the per-class table lists the uploaded classes
    expect(dash.page.locator('[data-testid="stDataFrame"]').first).to_contain_text(
        re.compile("red fox"))
    expect(dash.exceptions).to_have_count(0)
