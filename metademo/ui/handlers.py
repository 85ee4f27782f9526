"""Every event handler of the app, by name, from the modules that define them (for scripts and tests).

The handlers live with what they do: the few-shot classifier tab's in :mod:`~metademo.ui.capture`,
:mod:`~metademo.ui.session`, :mod:`~metademo.ui.saving` and :mod:`~metademo.ui.outer_loop` (its layout in
:mod:`~metademo.ui.classifier`); the other tabs' in :mod:`~metademo.ui.compare`, :mod:`~metademo.ui.sine_tab`
and :mod:`~metademo.ui.learn`; what they share is in :mod:`~metademo.ui.common`.
"""

from .capture import (  # noqa: F401
    add_drawing,
    add_photo,
    add_query_drawing,
    add_query_photo,
    add_query_uploads,
    add_uploads,
    clear_examples,
    clear_selection,
    fill_from_gallery,
    queries_from_gallery,
    remove_selected,
    select_index,
)
from .common import (  # noqa: F401
    DEFAULT_CLASSES,
    GENERIC_ERROR,
    MAX_CLASSES,
    MAX_EXAMPLES,
    MAX_IMAGES,
    MAX_LR,
    MAX_QUERIES,
    MAX_STEPS,
    MIN_CLASSES,
    accuracy_table,
    algorithm_defaults,
    algorithm_name,
    characters_of,
    checked,
    device_markdown,
    friendly,
    gallery_status,
    items,
    page_info,
    prepare_naming,
    show_classes,
    steps_and_lr,
    user_error,
)
from .common import number as _number  # noqa: F401
from .common import whole as _whole  # noqa: F401
from .compare import COMPARE_HEADERS, compare, new_episode  # noqa: F401
from .learn import _labels, classification, classify, labels_from_text, model_hash, parse_labels  # noqa: F401
from .outer_loop import choose_algorithm, meta_train  # noqa: F401
from .saving import download_classifier, download_task, open_task  # noqa: F401
from .session import (  # noqa: F401
    PRED_HEADERS,
    Session,
    adapt,
    classify_queries,
    live_preview,
    live_preview_photo,
    run_adaptation,
    show_step,
    step_chart,
    step_view,
)
from .sine_tab import SINE_CHOICES, new_seed, sine_adapt, sine_train  # noqa: F401
