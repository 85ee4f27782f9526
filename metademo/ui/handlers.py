"""Every event handler of the app, by name, from the tab modules that define them (for scripts and tests).

The handlers live with their tab: :mod:`~metademo.ui.classifier`, :mod:`~metademo.ui.compare`,
:mod:`~metademo.ui.sine_tab`, :mod:`~metademo.ui.learn`; what they share is in :mod:`~metademo.ui.common`.
"""

from .classifier import (  # noqa: F401
    PRED_HEADERS,
    Session,
    adapt,
    add_drawing,
    add_photo,
    add_query_drawing,
    add_query_photo,
    add_query_uploads,
    add_uploads,
    choose_algorithm,
    classify_queries,
    clear_examples,
    clear_selection,
    download_classifier,
    download_task,
    fill_from_gallery,
    live_preview,
    live_preview_photo,
    meta_train,
    open_task,
    queries_from_gallery,
    remove_selected,
    run_adaptation,
    select_index,
    show_step,
    step_chart,
    step_view,
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
    device_markdown,
    friendly,
    gallery_status,
    items,
    page_info,
    prepare_naming,
    show_classes,
    user_error,
)
from .common import number as _number  # noqa: F401
from .common import whole as _whole  # noqa: F401
from .compare import COMPARE_HEADERS, compare, new_episode  # noqa: F401
from .learn import _labels, classification, classify, labels_from_text, model_hash, parse_labels  # noqa: F401
from .sine_tab import SINE_CHOICES, new_seed, sine_adapt, sine_train  # noqa: F401
