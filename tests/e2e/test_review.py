"""The review queue: three samples reviewed with the keyboard alone, progress saved for everyone."""

import numpy as np
import pytest
from playwright.sync_api import expect

from evaldash.annotations import AnnotationStore

pytestmark = pytest.mark.e2e


def test_review_three_samples_with_the_keyboard(dash, digits_ev, app_server):
    d = digits_ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    order = wrong[np.argsort(-digits_ev.confidence[wrong], kind="stable")]
    store = AnnotationStore(str(app_server.log_path.with_suffix(".annotations.db")))
    before = store.reviewed(d.fingerprint(), "mistakes")
    start = next(n for n, r in enumerate(order) if str(d.ids[r]) not in before)

    dash.open("/review")
    name = dash.sidebar.locator(".st-key-annotator input")
    name.fill("Rui (e2e)")
    name.press("Enter")
    dash.wait_idle()
    dash.page.locator("h1").first.click()  # keys go to the page, not to the name box
    heading = dash.page.locator("h3").filter(has_text=" → predicted ")
    expect(heading).to_contain_text(f"{d.ids[order[start]]}:")

    dash.page.keyboard.press("1")  # tag "label error"
    dash.wait_idle()
    expect(dash.page.locator(".st-key-review_tag_1 button")).to_contain_text("✓")
    for step in range(1, 4):
        dash.page.keyboard.press("n")
        dash.wait_idle()
        expect(heading).to_contain_text(f"{d.ids[order[start + step]]}:")
    expect(dash.page.locator(".st-key-review_progress")).to_contain_text(
        f"{len(before) + 3} / {len(order)} reviewed")

    reviewed = store.reviewed(d.fingerprint(), "mistakes")
    assert {str(d.ids[r]) for r in order[start:start + 3]} <= reviewed
    state = store.state(d.fingerprint())
    assert "label error" in state.loc[str(d.ids[order[start]]), "tags"]
    assert state.loc[str(d.ids[order[start]]), "annotator"] == "Rui (e2e)"
    # a reload resumes at the first sample nobody has reviewed
    dash.page.reload()
    dash.page.locator("h1").first.wait_for()
    dash.wait_idle()
    expect(heading).to_contain_text(f"{d.ids[order[start + 3]]}:")
    expect(dash.exceptions).to_have_count(0)
