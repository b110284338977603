"""Nothing typed is lost (issue 14), as a person works, at a laptop's 1024×768 and at 1400×900:
a note typed in the review queue survives N and P (and is in the database), Ctrl+Enter saves it
while typing, the annotator's name survives a reload and a new tab, and a tag saved in Details
shows under its thumbnail as soon as the dialog is closed."""

import re

import pytest
from playwright.sync_api import expect

from dashboard import Dashboard, StreamlitServer
from evaldash.annotations import AnnotationStore
from test_login import animals_csv, login_server  # noqa: F401 - fixtures: a server with --users


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, upload_dir):
    """The digits sample on a server (and database) of this module's own: the review queue's first
    samples are the most confident mistakes, which other modules' tests annotate on the shared
    server, and these tests check exactly what one save records."""
    server = StreamlitServer([], tmp_path_factory.mktemp("server") / "nothing_lost.log", upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()

pytestmark = pytest.mark.e2e

SIZES = [pytest.param({"width": 1024, "height": 768}, id="1024x768"),
         pytest.param({"width": 1400, "height": 900}, id="1400x900")]


def _store(server) -> AnnotationStore:
    return AnnotationStore(str(server.log_path.with_suffix(".annotations.db")))


def _type_name(dash, name: str) -> None:
    box = dash.sidebar.locator(".st-key-annotator input")
    box.fill(name)
    box.press("Enter")
    dash.wait_idle()


def _shown_id(dash) -> str:
    heading = dash.page.locator("h3").filter(has_text=" → predicted ")
    return heading.inner_text().split(":")[0].strip()


def _note_box(dash, sid: str):
    return dash.page.locator(f".st-key-review_note_{sid} textarea")


@pytest.mark.parametrize("size", SIZES)
def test_type_a_note_press_n_then_p_the_note_is_there(dash, app_server, digits_ev, size):
    dash.page.set_viewport_size(size)
    dash.open("/review")
    _type_name(dash, f"Noa {size['width']}")
    first = _shown_id(dash)
    note = f"the loop is open ({size['width']})"
    box = _note_box(dash, first)
    box.scroll_into_view_if_needed()
    box.fill(note)
    dash.page.locator("h1").first.click()  # leave the box, as a person does before pressing N
    dash.page.keyboard.press("n")
    dash.wait_idle()
    expect(dash.page.locator("h3").filter(has_text=" → predicted ")).not_to_contain_text(f"{first}:")
    fp = digits_ev.dataset.fingerprint()
    state = _store(app_server).state(fp)
    assert state.loc[first, "note"] == note
    assert state.loc[first, "annotator"] == f"Noa {size['width']}"
    assert first in _store(app_server).reviewed(fp, "mistakes")
    expect(dash.page.get_by_text(f"Saved 1 change of {first} (note).")).to_be_visible()

    dash.page.keyboard.press("p")
    dash.wait_idle()
    expect(dash.page.locator("h3").filter(has_text=" → predicted ")).to_contain_text(f"{first}:")
    expect(_note_box(dash, first)).to_have_value(note)
    expect(dash.exceptions).to_have_count(0)


def test_a_note_typed_then_another_page_is_there_on_return(dash, app_server, digits_ev):
    dash.page.set_viewport_size({"width": 1024, "height": 768})
    dash.open("/review")
    _type_name(dash, "Noa")
    sid = _shown_id(dash)
    box = _note_box(dash, sid)
    box.scroll_into_view_if_needed()
    box.fill("typed, then off to the overview")
    dash.page.locator("h1").first.click()  # leave the box (it sends its text), then the page
    dash.wait_idle()
    dash.sidebar.get_by_role("link", name="Overview").click()
    dash.wait_idle()
    expect(dash.page.locator("h1").first).to_have_text("Overview")
    dash.sidebar.get_by_role("link", name="Review queue").click()
    dash.wait_idle()
    expect(_note_box(dash, sid)).to_have_value("typed, then off to the overview")
    expect(dash.page.locator(".st-key-review_unsaved")).to_contain_text("Not saved yet: the note.")
    dash.page.locator("h1").first.click()
    dash.page.keyboard.press("n")
    dash.wait_idle()
    state = _store(app_server).state(digits_ev.dataset.fingerprint())
    assert state.loc[sid, "note"] == "typed, then off to the overview"


@pytest.mark.parametrize("size", SIZES)
def test_ctrl_enter_saves_while_typing(dash, app_server, digits_ev, size):
    dash.page.set_viewport_size(size)
    dash.open("/review")
    _type_name(dash, "Noa")
    sid = _shown_id(dash)
    note = f"saved with the keyboard ({size['width']})"
    box = _note_box(dash, sid)
    box.scroll_into_view_if_needed()
    box.fill(note)
    box.press("Control+Enter")  # without leaving the box
    dash.wait_idle()
    saved = dash.page.locator(".st-key-review_save").locator("xpath=following::*[@data-testid='stAlert']").first
    expect(saved).to_contain_text(re.compile(r"Saved 1 change of .* \(note\)\."))
    expect(saved).to_be_in_viewport()  # where the eyes are
    assert _store(app_server).state(digits_ev.dataset.fingerprint()).loc[sid, "note"] == note


@pytest.mark.parametrize("size", SIZES)
def test_reload_and_new_tab_the_name_is_there(dash, size):
    dash.page.set_viewport_size(size)
    dash.open("/review")
    name = f"Zoë Ōta (e2e {size['width']}) & co; =x"  # spaces, accents, ; and = survive the cookie
    _type_name(dash, name)
    # the browser has stored it (the component writes the cookie once it is drawn)
    dash.page.wait_for_function("document.cookie.includes('evaldash_annotator=')")

    dash.page.reload()
    dash.page.locator("h1").first.wait_for()
    dash.wait_idle()
    expect(dash.sidebar.locator(".st-key-annotator input")).to_have_value(name)
    first = _shown_id(dash)
    dash.page.locator("h1").first.click()
    dash.page.keyboard.press("n")  # works at once: no "Type your name first"
    dash.wait_idle()
    expect(dash.page.get_by_text("Type your name")).to_have_count(0)
    expect(dash.page.locator("h3").filter(has_text=" → predicted ")).not_to_contain_text(f"{first}:")

    tab = dash.page.context.new_page()
    tab.set_viewport_size(size)
    tab.goto(dash.base_url + "/confusion")
    tab.locator("h1").first.wait_for()
    expect(tab.locator('[data-testid="stSidebar"] .st-key-annotator input')).to_have_value(name)
    tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_save_in_details_close_the_tag_is_under_the_thumbnail(dash, digits_ev, size):
    dash.page.set_viewport_size(size)
    d = digits_ev.dataset
    one, eight = d.classes.index("1"), d.classes.index("8")
    row = int(digits_ev.cell_samples(one, eight)[2 if size["width"] == 1024 else 3])  # not another test's
    tag = f"seen at {size['width']}"
    dash.open("/confusion?true=1&pred=8")
    _type_name(dash, "Noa")

    dash.page.locator(f".st-key-cell_detail_{row} button").click()
    dialog = dash.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # as a person: click New tag, type, Enter at once (Enter saves)
    box = dialog.locator(f".st-key-findings_new_tag_{row} input")
    box.click()
    box.press_sequentially(tag)
    box.press("Enter")
    expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
    expect(dialog.locator(f".st-key-findings_tags_{row}")).to_contain_text(tag)
    dash.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    dash.wait_idle()

    # the page behind the dialog shows it: under the thumbnail, and among the gallery's tag filters
    column = dash.page.locator('[data-testid="stColumn"]').filter(
        has=dash.page.locator(f".st-key-cell_detail_{row}")).last
    expect(column.locator('[data-testid="stImageCaption"]')).to_contain_text(tag)
    dash.page.locator(".st-key-cell_tags").click()
    expect(dash.page.get_by_role("option", name=tag)).to_be_visible()
    expect(dash.exceptions).to_have_count(0)


def test_with_a_log_in_the_user_is_the_annotator_not_a_remembered_name(page, login_server, animals_csv):
    """A name this browser remembers from a server without log-in is not used where there is one."""
    from urllib.parse import urlsplit

    import evaldash
    from test_login import PASSWORD, _log_in

    d = evaldash.load_predictions(animals_csv)
    page.set_viewport_size({"width": 1024, "height": 768})
    url = login_server.url
    page.context.add_cookies([{"name": "evaldash_annotator", "value": "Mallory", "domain": urlsplit(url).hostname,
                               "path": "/"}])
    page.goto(f"{url}/review")
    _log_in(page, "ana", PASSWORD)
    page.wait_for_url(f"{url}/review")
    dash = Dashboard(page, url)
    page.locator("h1").first.wait_for()
    dash.wait_idle()
    expect(dash.sidebar).to_contain_text("Signed in as ana")
    expect(dash.sidebar.locator(".st-key-annotator input")).to_have_count(0)
    sid = _shown_id(dash)
    box = _note_box(dash, sid)
    box.scroll_into_view_if_needed()
    box.fill("checked while signed in")
    page.locator("h1").first.click()
    page.keyboard.press("n")
    dash.wait_idle()
    state = _store(login_server).state(d.fingerprint())
    assert state.loc[sid, "note"] == "checked while signed in"
    assert state.loc[sid, "annotator"] == "ana"
