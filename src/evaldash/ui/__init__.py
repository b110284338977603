"""The Streamlit-facing package: the only code outside ``app.py`` and ``pages/`` that imports Streamlit.

Pages import it as ``from evaldash import ui`` and call what is re-exported here; the computation
they show lives in the Streamlit-free core. One module per concern:

- ``sources``: the command line, the open runs, each file loaded once (cached);
- ``active_data``: the evaluation a session shows (sliced, with corrected labels when asked);
- ``links``: the URL read on entering a page, widget values kept across pages, the slice;
- ``page``: every page's frame (set-up, notices, the sidebar drawn after the content);
- ``open_panel``: the sidebar's data panel (samples, paths on the server, uploads);
- ``findings_store`` and ``annotation_panel``: the annotation database, who annotates, exports;
- ``galleries``, ``sample_details``, ``notices``: thumbnails, the Details dialog and its findings form;
- ``components``, ``threshold_widgets``: the custom components drawn in the browser (charts, the
  confusion grid, the live threshold);
- ``gates_panel``: the overview's quality gates;
- ``concepts``, ``concept_scores``, ``concept_runs``: what a multi-label (concept) file shows where a
  page differs (the overview, the concept matrix, a concept's false negatives and false positives,
  the review; a concept's threshold and calibration; slices and two runs compared);
- ``review_sets``: what both review queues share (an uploaded id list, "reviewed" marks, progress);
- ``engine_sources`` and ``engine_gate``: a file that stays in an engine (``--engine duckdb|spark|auto``):
  opened once per server with its steps shown, the sidebar's engine line, and the one line (with
  "Open a sample of 1,000,000 rows in memory") where a view needs every row; ``engine_compare``: two
  runs on one engine paired and compared there (/compare), once per pair; ``engine_views``: one
  slice of such a file, or its corrected labels, computed in the engine once for every session;
  ``engine_ranking``: a page waiting for the exact sweeps still computed after the first view;
- ``text``: user text shown as text (Markdown escaping).
"""

from evaldash.ui.text import (  # noqa: F401
    WORD_JOINER,
    md,
    class_label,
    images,
)
from evaldash.ui.sources import (  # noqa: F401
    add_run,
    ROOT,
    SAMPLES,
    Source,
    app_args,
    start_sources,
    data_roots,
    start_source,
    runs,
    run_name,
    load,
)
from evaldash.ui.links import (  # noqa: F401
    active_slice,
    set_slice,
    deep_link,
    kept,
    remember,
    keep,
    link_params,
    sync_query,
)
from evaldash.ui.findings_store import (  # noqa: F401
    annotation_store,
    fingerprint,
    findings,
    tags_in,
    tagged_mask,
    tagged_ids,
    tag_picker,
    tag_filter,
    id_mask,
)
from evaldash.ui.active_data import (  # noqa: F401
    current,
)
from evaldash.ui.components import (  # noqa: F401
    request_scroll,
    scroll_into_view,
    chart,
    picked,
    confusion_grid,
    clicked_cell,
)
from evaldash.ui.threshold_widgets import (  # noqa: F401
    note_threshold,
    set_threshold,
    live_threshold,
    threshold_choice,
    committed_threshold,
)
from evaldash.ui.annotation_panel import (  # noqa: F401
    NAME_FIRST,
    signed_in_user,
    annotator_name,
    approver_input,
    annotator_panel,
    export_panel,
)
from evaldash.ui.notices import (  # noqa: F401
    image_notice,
    rows_image_notice,
)
from evaldash.ui.sample_details import (  # noqa: F401
    detail_dialog,
    SCORES_SHOWN,
    sample_scores,
    findings_form,
)
from evaldash.ui.galleries import (  # noqa: F401
    PAGE_SIZE,
    GRID_COLUMNS,
    gallery,
    pair_gallery,
    pager,
)
from evaldash.ui.concepts import (  # noqa: F401
    ERROR_KINDS,
    concept_overview,
    concept_matrix,
    concept_error_galleries,
    concept_review,
    sample_label_sets,
    error_links,
)
from evaldash.ui.concept_scores import (  # noqa: F401
    concept_threshold_start,
    concept_thresholds_panel,
    concept_calibration_view,
)
from evaldash.ui.review_sets import (  # noqa: F401
    uploaded_id_rows,
    engine_uploaded_id_rows,
    reviewed_ids,
    review_progress,
)
from evaldash.ui.concept_runs import (  # noqa: F401
    COMPARED as CONCEPT_COMPARED,
    concept_slices,
    concept_compare,
)
from evaldash.ui.gates_panel import (  # noqa: F401
    quality_gates,
)
from evaldash.ui.open_panel import (  # noqa: F401
    UPLOAD_DIR,
    VIEW_WIDGETS,
    data_panel,
)
from evaldash.ui.engine_sources import (  # noqa: F401
    on_engine,
    source_stat,
)
from evaldash.ui.engine_compare import (  # noqa: F401
    same_engine,
    engine_comparison,
    multilabel_pair,
)
from evaldash.ui.engine_gate import (  # noqa: F401
    cell_table_line,
    engine_line,
    engine_error,
    engine_guard,
    sample_button,
)
from evaldash.ui.engine_ranking import wait_for_ranking  # noqa: F401
from evaldash.ui.page import (  # noqa: F401
    page_setup,
    run_page,
    sidebar,
    stop,
    need_scores,
)
