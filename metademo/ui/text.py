"""Every sentence the app shows: tab introductions, help texts and the "Learn" tab.

Kept apart from the layout so that a teacher can reword the page without reading any Gradio code. This is the
English source of every language: :mod:`metademo.ui.locales` has the same keys in Spanish, French and German, and
:mod:`metademo.ui.i18n` gives the page each text in the visitor's language.
What the page says of each algorithm (title, summary, starting head) comes from the algorithm itself,
through :func:`metademo.api.algorithm_info`: this module spells out none of them.
"""

from __future__ import annotations

from pathlib import Path

from metademo.api import algorithm_info

from .learn_text import LEARN_TEMPLATE, STABLE_LOOPS

INFO_OF = algorithm_info()  # registry name -> AlgorithmInfo, in the order of metademo.available_algorithms()
#: (title, registry name) of every algorithm, in the order of ``metademo.available_algorithms()``.
ALGORITHMS: list[tuple[str, str]] = [(info.title, name) for name, info in INFO_OF.items()]
TITLES = {name: title for title, name in ALGORITHMS}

ACCURACY_FILE = Path(__file__).resolve().parents[2] / "docs" / "accuracy.md"

HEADER = """\
# metademo: learning to learn, live
Meta-learning trains a model on *many small tasks* so that it can learn a **new** task from a
handful of examples. Here {count} meta-learners, pretrained on the Omniglot alphabets, meet characters
they have never seen. Give them a few examples of each class and watch them adapt.
"""

CLASSIFIER_INTRO = """\
**How to use:** 1) give each class a few examples: *Upload* pictures, draw on the pad and press
**Drawing**, hold a drawing up to the webcam and press **Photo**, or press **Gallery** for drawings of
a character the models never saw; 2) press **Adapt** and watch the model learn from them (the
*support set*), step by step; 3) add *queries*, or just draw, and read how sure the model is.
"""

SKETCH_HELP = ("Draw one character with the mouse, a finger or a pen, then press **Drawing** in a class (or "
               "under *Queries*): it is added and the pad clears itself for the next one.")
WEBCAM_HELP = ("Press the camera picture and allow the browser to use it. Hold up one character drawn with a "
               "dark pen on white paper, filling the middle of the picture, and press **Photo** in a class.")
LIVE_HELP = ("After **Adapt**, the bars show what the adapted model thinks of the drawing on the pad, and they "
             "change as you draw: one bar per class.")
CAPTURE_HELP = ("Each class card: **Upload** (several files at once), **Drawing** (from the pad), **Photo** (from "
                "the webcam), **Gallery** (K drawings of a new character). Click an example to select it for "
                "*Remove selected*; *Clear* empties the card.")
QUERY_HELP = ("Queries are classified as soon as they are added. *Gallery* adds a new drawing of each gallery "
              "character in your classes, so the right answer is known (green = right, red = wrong).")
TASK_HELP = ("**Download task** saves the class names and their images (and the queries) as one zip file; "
             "**Open task** loads such a file back, e.g. a task a teacher prepared.")
OUTER_LOOP_HELP = ("The pretrained models learned *how to learn* in an outer loop over thousands of small tasks. "
                   "Here you can watch one: a small model starts from random weights and meta-trains on tasks drawn "
                   "from Omniglot's training alphabets; every few iterations it is scored on tasks of characters it "
                   "never trains on. One run at a time for the whole app. Why the first choice "
                   "already scores about 65% (chance is 20%) before its first iteration: even random convolution "
                   "weights map two drawings of the same character to nearby points, and it answers with the "
                   "nearest class average, so it beats chance untrained; the outer loop then moves those points "
                   "much further apart. The other choice starts every task from a head of zeros, so at chance.")
EXPORT_HELP = ("**Download classifier** saves the adapted model (safetensors). In Python: "
               "`metademo.load_fitted(path).predict_proba(images)` gives the same probabilities.")

COMPARE_INTRO = """\
One *episode* (N unseen characters, K examples of each, and 5 more drawings of each as queries
with known answers) goes through every algorithm. The chart shows the share of queries each one
gets right after every inner step (the dashed line is chance, 1 in N); an algorithm without an inner
loop is a single point at step 0.
"""

SINE_INTRO = """\
The classic picture from the MAML paper (Finn et al. 2017). Every *task* is a sine wave
`y = amplitude * sin(x - phase)`. From K points of a new wave, **MAML** (meta-trained on many waves)
and a **baseline** (one network trained on all the waves at once) each take gradient steps. MAML's
starting point was chosen so that a few steps reach the new wave; the baseline's was not.
"""

SINE_TRAIN_HELP = """\
Meta-train a fresh MAML on random sine waves, right here (well under a minute on two CPU cores).
The curve is the *meta-loss*: the error on held-out points of new waves **after** the inner steps.
When it is done, choose *the MAML you just trained* above and adapt again.
"""

#: Right and wrong in the predictions table and charts: in words (and a mark), never by colour alone.
RIGHT, WRONG, TIE = "✓ right", "✗ wrong", "a tie"

#: The tab's section headings and component labels (the texts of :mod:`~metademo.ui.classifier`).
HEADINGS = {
    "capture": "### 1. Draw or show a character",
    "classes": "### 2. Your classes",
    "adapt": "### 3. Adapt: the inner loop",
    "queries": "### 4. Queries: what does the adapted model think these are?",
    "save": "### 5. Save and share",
    "outer": "### 6. Watch the outer loop: meta-train a model yourself",
}
LABELS = {
    "pad": "Drawing pad",
    "webcam": "Webcam",
    "live": "Live preview of the pad",
    "pad_preview": "Preview the pad",
    "num_classes": "Number of classes",
    "k_gallery": "Drawings per gallery pick (K)",
    "class_name": "Class {n}: name",
    "class_examples": "Class {n}: examples",
    "upload": "Upload", "drawing": "Drawing", "photo": "Photo", "gallery": "Gallery",
    "remove": "Remove selected", "clear": "Clear",
    "algorithm": "Algorithm",
    "steps": "Inner steps",
    "lr": "Inner learning rate",
    "adapt": "Adapt",
    "adapt_plot": "Adaptation",
    "step": "Step shown below",
    "queries": "Queries (click one to select it)",
    "classify": "Classify",
    "pred_plot": "Predictions at the chosen step",
    "pred_table": "Predictions (table)",
    "embed_plot": "Embedding map at the chosen step",
    "download_task": "Download task",
    "open_task": "Open task",
    "download_classifier": "Download classifier",
    "save_again": "Save the last file again",
    "live_algorithm": "Algorithm to meta-train",
    "live_seconds": "Training time (seconds)",
    "outer_plot": "Outer loop",
    "meta_train": "Meta-train",
    # the other tabs
    "n_way": "N-way", "k_shot": "K-shot", "queries_per_class": "Queries per class", "inner_steps": "Inner steps",
    "new_episode": "New episode", "run_compare": "Run every algorithm on this episode",
    "support_set": "Support set (the labelled examples, one column per class)", "comparison": "Comparison",
    "results": "Results (query accuracy)",
    "amplitude": "Amplitude", "phase": "Phase", "k_points": "K points", "sine_steps": "Steps",
    "learning_rate": "Learning rate", "points_seed": "Seed of the points", "maml_model": "MAML model",
    "new_points": "New points", "sine_plot": "Sine wave", "iterations": "Meta-training iterations",
    "training_seed": "Training seed", "train_maml": "Meta-train MAML", "meta_training_plot": "Meta-training",
    "policy": "Policy", "episodes_seed": "Seed of the episodes", "random_goal": "Random goal",
    "nav_field": "MAML: click to set the goal", "nav_baseline": "baseline (pretrained on all goals)",
    "nav_returns": "Return per step", "try_classify": "Try /classify here",
}

INFO = {
    "num_classes": "How many classes (characters) the model must tell apart.",
    "k_gallery": "How many drawings the Gallery button puts in a class.",
    "algorithm": "Which meta-learner adapts to your classes.",
    "steps": "Inner steps: gradient steps taken on your examples. 0 = the pretrained starting point.",
    "lr": "Inner learning rate: the size of each step. Far too large makes the model diverge.",
    "live_algorithm": "Prototypical Networks learn fastest; first-order MAML needs much longer to beat chance.",
    "live_seconds": "How long the outer loop runs (the app's two processor cores are busy meanwhile).",
    "step_shown": "Which inner step the predictions and the embedding map below show (0 = before adapting).",
    "n_way": "N-way: how many characters in the episode.",
    "k_shot": "K-shot: how many labelled examples of each character.",
    "queries": "Queries per class: unlabelled drawings to classify (their answers are known).",
    "compare_steps": "Inner steps for the gradient-based algorithms (each uses its own default learning rate).",
    "amplitude": "Height of the wave.",
    "phase": "Shift of the wave to the right.",
    "k_points": "K: how many points of the new wave the models see.",
    "sine_steps": "Gradient steps each model takes on the K points.",
    "sine_lr": "Step size of those gradient steps.",
    "iterations": "Meta-training iterations, each on a batch of 25 new waves (2000 take about half a minute).",
}

def _note(info) -> str:
    if info.pair_score_label:
        return MESSAGES["note_pair"].format(summary=info.summary, label=info.pair_score_label)
    if not info.adapts_by_steps:
        return MESSAGES["note_metric"].format(summary=info.summary)
    return MESSAGES["note_steps"].format(summary=info.summary, head=info.head_description)

#: The Learn tab is LEARN_TEMPLATE filled with the registry's algorithms in each language: see
#: metademo.ui.i18n (static_text("learn", language)).
HEADER_TEMPLATE = HEADER
HEADER = HEADER.format(count=len(INFO_OF))

_PICTURES = (  # (row, few-shot classification, sine-wave regression, 2-D navigation)
    ("A task", "tell apart N new character classes", "fit one sine wave (its amplitude and phase)",
     "reach one hidden goal in the plane"),
    ("Support set", "K labelled drawings of each class", "K points (x, y) of the wave",
     "episodes the policy itself samples, with their rewards"),
    ("Inner loop", "gradient steps on the support cross-entropy", "gradient steps on the support squared error",
     "policy-gradient steps on the sampled episodes' return"),
    ("Scored on", "the query drawings' accuracy", "the error over the whole wave",
     "the return of new episodes after adapting"),
    ("Outer loop", "make the adapted model classify queries well, over many tasks", "make one step fit any wave",
     "make a few steps reach any goal (its meta-gradient also goes through how the episodes were sampled)"),
)
THREE_PICTURES = ("### Three pictures of meta-learning, side by side\n\n"
                  "| | Few-shot classification | Sine-wave regression | 2-D navigation (reinforcement) |\n"
                  "|---|---|---|---|\n" + "".join(f"| **{r[0]}** | {r[1]} | {r[2]} | {r[3]} |\n" for r in _PICTURES))

ACCURACY_MISSING = """\
### Measured accuracy
Not measured yet: the benchmark table (`docs/accuracy.md`) will appear here once the shipped models
have been evaluated.
"""

API_HELP = """\
### Use it from a program
The main actions of this page are also API endpoints (see *Use via API* at the bottom of the page). The
main one, `/classify`, adapts a model to labelled images and classifies queries in one call:

```python
from gradio_client import Client, handle_file

client = Client("{url}")
result = client.predict(
    "maml",                                            # algorithm
    [handle_file("a1.png"), handle_file("b1.png")],    # support images
    ["alpha", "beta"],                                 # one label per support image
    [handle_file("query.png")],                        # images to classify
    None,                                              # inner steps (None: the model's default)
    None,                                              # inner learning rate (None: the model's default)
    api_name="/classify",
)
result["classes"], result["probabilities"], result["predictions"], result["history"]
```
You can also try it in the form below.
"""


NAVIGATION_INTRO = """\
A point starts in the middle and chooses a velocity at each of 100 steps; its reward is minus its distance to a
**hidden goal**. The task is the goal. **Click anywhere in the square** to hide one (or draw one at random): the
policy samples 20 episodes, takes one policy-gradient step on their rewards, samples 20 more, and so on. Grey
paths are before adapting, then blue, green, orange after steps 1, 2, 3. MAML was meta-trained so that these
few steps head for the goal; the baseline, trained on all goals at once, learned one average behaviour. The
dashed square is where meta-training drew its goals.
"""
#: The other tabs' section headings and first lines.
HEADINGS.update({
    "sine_train": "### Meta-train MAML yourself",
    "nav_train": "### Meta-train MAML yourself (about two minutes on two CPU cores for 100 iterations)",
})
EPISODE_HINT = "Press *New episode* to draw one (or *Run*, which draws one if needed)."
NAV_HINT = "Click in the square to hide a goal."

#: The tabs' names.
TABS = {"classifier": "Few-shot classifier", "compare": "Compare algorithms",
        "sine": "Sine-wave regression (classroom)", "navigation": "2-D navigation (reinforcement)", "learn": "Learn"}

#: Texts the page builds while it answers (status lines, messages, charts): ``str.format`` templates.
MESSAGES = {
    # the Learn tab's and the algorithm notes' pieces (filled with the registry's descriptions)
    "learn_family": "**Those that {what}:**",
    "and": " and ",
    "note_pair": ("{summary} Steps and learning rate do not apply; the chart shows each query's {label} with each "
                  "class, and the embedding map what its embedding module does."),
    "note_metric": "{summary} Steps and learning rate do not apply; the embedding map shows what it does.",
    "note_steps": "{summary} Each task starts from {head}.",
    "checkpoint_defaults": " Checkpoint defaults: {steps} steps, learning rate {lr:g}.",
    "device": "Models run on **{type}**",
    "device_threads": " ({threads} threads)",
    "device_bfloat16": ", inner steps in bfloat16",
    "generic_error": "Something went wrong on the server (it has been logged). Please try again.",
    # the predictions table, right and wrong
    "col_query": "query", "col_prediction": "prediction", "col_confidence": "confidence",
    "col_answer": "right answer", "col_correct": "correct?",
    "right": RIGHT, "wrong": WRONG, "tie": TIE,
    "yours": "Your meta-trained model",
    "image": "image",
    # Adapt and the steps
    "not_adapted": "Press 'Adapt' first: the model has not learned your classes yet.",
    "classes_range": "Use from {low} to {high} classes, got {count}.",
    "same_name": "Two classes are called {name!r}: give each class its own name.",
    "no_examples": ("Class {n} ({name!r}) has no examples yet: upload some, add a drawing or a photo, or press "
                    "'Gallery'."),
    "too_many_examples": "Class {n} ({name!r}) has {count} examples; at most {limit} per class are used. Remove some.",
    "bad_example": "Class {n} ({name!r}), example {k}: {reason}",
    "bad_query": "Query {n} ({name}): {reason}",
    "map_after_adapt": "The embedding map appears after Adapt.",
    "before_adapting": "before adapting (step 0)",
    "after_one_step": "after 1 inner step",
    "after_steps": "after {n} inner steps",
    "no_inner_steps": "no inner steps",
    "map_title": "Embeddings {when}<br><sup>2-D PCA, same axes for every step</sup>",
    "add_queries": "Add queries (upload, draw, photo or gallery) to see predictions.",
    "pair_title": "{title}: the {label} of each query with each class (no inner steps)",
    "no_steps_scores": "{title} has no inner steps. Add queries to see their {label}s.",
    "no_steps_map": "{title} has no inner steps: the map below shows what it does.",
    "adapting_title": "{title} adapting to your {count} classes",
    "not_trained": "You have not meta-trained a model yet: press 'Meta-train' in section 6 first.",
    "diverged": ("The adaptation diverged at step {step}: the learning rate {lr:g} is too large. The predictions use "
                 "step {used}, the last good one. Try a smaller learning rate."),
    "exploded": ("The support loss exploded (up to {peak:.3g}, from {start:.3g}): the learning rate {lr:g} is too "
                 "large, so the steps overshoot. Try a smaller learning rate."),
    "adapting": "Adapting",
    "step_status": "**{title}**: step {step} of {steps} · support loss {loss:.3f}",
    "adapted_status": ("**{title}** adapted to {classes} classes from {examples} examples: {steps} steps of learning "
                       "rate {lr:g} in {ms:.0f} ms. Support accuracy {accuracy:.0f}%, loss {loss:.3f}. Move the "
                       "*step* slider to see each step."),
    "fitted_status": "**{title}**: {fitted_as} for {classes} classes from {examples} examples in {ms:.0f} ms (no "
                     "inner steps).",
    # capture
    "no_ink": ("No clear ink in the photo. The models know handwritten characters: hold up one character drawn "
               "with a dark, thick pen on white paper, filling the middle of the picture, and try again."),
    "no_camera": ("The webcam is not on: press the camera picture above the class cards, allow the browser to use "
                  "the camera, then press Photo again."),
    "empty_pad": ("The drawing pad is empty: draw a character on it first (if you just drew one, it may still be "
                  "saving: wait a second and press Drawing again)."),
    "kept_some": "At most {limit} images here; kept {room} of the {count} new ones.",
    "skipped": "Skipped what is not a usable image: {files}",
    "full": "At most {limit} images here: remove one first.",
    "select_first": "Click an image first to select it, then press 'Remove selected'.",
    "gallery_first": ("Fill at least one class with 'Gallery' first: the gallery queries are new drawings of those "
                      "characters, so the right answers are known."),
    # save and share
    "task_needs_examples": "Class {n} ({name!r}) has no examples yet: a task needs examples of every class.",
    "choose_task": "Choose a task file (.zip) saved with 'Download task'.",
    "task_classes": ("This task has {count} classes; the page shows {low} to {high} (in Python, metademo.load_task "
                     "opens it with up to {most})."),
    "opened_task": ("Opened a task with {count} classes ({names}), {examples} examples and {queries} queries. Press "
                    "**Adapt**."),
    "nothing_to_download": "Press 'Adapt' first: there is no adapted classifier to download yet.",
    # the outer loop
    "train_first": ("⚠️ You have not meta-trained a model yet: press **Meta-train** in section 6, then adapt with it "
                    "here."),
    "your_model": "Your model: {note}. ",
    "live_runs": "Live meta-training runs {titles}.",
    "busy": ("Someone is meta-training a model right now (one at a time, as it takes all the processor). Try again "
             "in a minute."),
    "loading_alphabets": "Loading the training alphabets",
    "meta_training_title": "Meta-training {title} from a random start",
    "meta_training": "Meta-training",
    "iteration_status": ("Iteration {iteration} · {seconds:.0f} s of training · validation accuracy "
                         "**{accuracy:.0f}%** on unseen characters · data: {data}"),
    "done_status": ("Done: {iteration} outer-loop iterations in {seconds:.0f} s; validation accuracy from "
                    "{start:.0f}% (random start) to **{accuracy:.0f}%**. *{yours}* is now chosen in section 3: press "
                    "**Adapt** to use it on your classes, beside the pretrained ones."),
    # charts
    "inner_step": "inner step",
    "loss_axis": "loss (cross-entropy)",
    "loss_axis_log": "loss (cross-entropy, log scale)",
    "accuracy_axis": "accuracy (%)",
    "chance": "chance ({percent:.0f}%)",
    "uniform_loss": "loss of a uniform guess (ln {n})",
    "diverged_mark": "diverged",
    "support_loss": "support loss",
    "support_accuracy": "support accuracy (%)",
    "query_accuracy": "query accuracy (%)",
    "queries_trace": "queries",
    "axis_1": "principal axis 1",
    "axis_2": "principal axis 2",
    "tie_mark": " (tie)",
    "query_row": "Query {n}: <b>{shown}</b> ({percent:.0f}%)",
    "it_is": " (it is {name})",
    "query": "query",
    "class": "class",
    "validation_trace": "validation: 5-way 1-shot tasks of unseen characters (%)",
    "training_trace": "training tasks (%)",
    "outer_axis": "outer-loop iteration (one meta-batch of tasks each)",
    "outer_accuracy_axis": "query accuracy after adapting (%)",
    # the comparison
    "col_algorithm": "algorithm", "col_inner_steps": "inner steps", "col_before": "before adapting (step 0)",
    "col_after_last": "after the last step", "col_after_default": "after its default steps", "col_time": "time (ms)",
    "default_steps_cell": "{percent:.0f}% ({steps} steps)",
    "too_many_drawings": ("K-shot + queries per class must be at most {most} (each character has {most} drawings), "
                          "got {k} + {q}."),
    "support_caption": "class {n}: {key}",
    "kind_synthetic": "synthetic glyphs", "kind_omniglot": "Omniglot evaluation characters",
    "episode_info": ("**{n}-way {k}-shot episode** of {kind} (the models never saw them), {q} queries per class: "
                     "{characters}"),
    "adapting_algorithm": "Adapting {title}",
    "skipped_algorithm": "{title} skipped: {reason}",
    "nothing_to_compare": "No pretrained model could be loaded, so there is nothing to compare.",
    # the sine waves
    "sine_pretrained": "MAML (pretrained)",
    "choice_pretrained": "pretrained MAML", "choice_trained": "the MAML you trained",
    "sine_yours": "your MAML ({iterations} iterations)",
    "sine_baseline": "baseline (pretrained on all waves)",
    "no_trained_maml": "You have not meta-trained a MAML yet (press 'Meta-train MAML'); showing the pretrained one.",
    "sine_status": "Step {step} of {steps}. Error over the whole wave (MSE): {errors}",
    "diverged_word": "diverged",
    "sine_diverged": "A model diverged: the learning rate {lr:g} is too large for these points.",
    "meta_training_maml": "Meta-training MAML",
    "sine_iteration": "Iteration {iteration} of {iterations} · meta-loss {loss:.3f} · {seconds:.0f} s",
    "sine_done": ("Done: {iterations} iterations in {seconds:.0f} s, final meta-loss {loss:.3f}. 'The MAML you "
                  "trained' is now selected above: press **Adapt** to see it learn a new wave."),
    "panel_title": "<b>{name}</b>: after {step} of {steps} steps",
    "true_wave": "true wave", "prediction": "prediction", "earlier_steps": "earlier steps",
    "k_points_trace": "K = {k} points",
    "meta_loss": "meta-loss", "meta_iteration": "meta-training iteration",
    "loss_after_adapting": "loss after adapting (MSE)", "sine_training_title": "Meta-training MAML on sine waves",
    # the API's checks of numbers, as the page words them (metademo.api.checks; the same words in English)
    "whole_number": "{what} must be a whole number from {low} to {high}, got {got}",
    "number_above": "{what} must be a number above {low} and at most {high}, got {got}",
    "number_at_least": "{what} must be a number at least {low} and at most {high}, got {got}",
    "what_classes": "The number of classes", "what_gallery": "The number of gallery drawings", "what_n_way": "N-way",
    "what_k_shot": "K-shot", "what_queries": "Queries per class", "what_inner_steps": "Inner steps",
    "what_steps": "Steps", "what_seed": "The seed", "what_iterations": "Iterations",
    "what_training_time": "The training time", "what_lr": "The inner learning rate",
    # the navigation
    "nav_status": "Goal ({x:+.2f}, {y:+.2f}). Return before adapting → after {steps} steps: {returns}",
    "nav_paths": "{name}: paths after each step",
    "nav_done": "Done: {iterations} iterations. 'The MAML you trained' is now selected: click a goal to see it adapt.",
    "nav_iteration": ("Iteration {iteration} of {iterations} · {seconds:.0f} s · return {before:.1f} before "
                      "adapting, {after:.1f} after one step"),
    "nav_returns_title": "Return per step (mean of 20 episodes)",
    "inner_steps_axis": "inner steps", "return_axis": "return",
    "before_adapting_trace": "before adapting", "after_one_step_trace": "after 1 step",
    "nav_training_title": "Return on validation goals while meta-training", "outer_iterations": "outer iterations",
}

#: Static texts with a number in them ({n}), and how many numbers the page uses: one browser key per number.
NUMBERED = {"label_class_name": 10, "label_class_examples": 10}


def accuracy_markdown(path: Path | None = None) -> str:
    """The accuracy table written by the benchmark (``docs/accuracy.md``), or a "not measured yet" note."""
    path = ACCURACY_FILE if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ACCURACY_MISSING
    return text or ACCURACY_MISSING


GALLERY_OMNIGLOT = ("Gallery: **Omniglot evaluation alphabets** (659 characters the models never saw during "
                    "meta-training).")
GALLERY_SYNTHETIC = "Gallery: **synthetic glyphs** (made-up characters drawn by a program)."
GALLERY_LOADING = "Omniglot is being loaded; the gallery switches over when it is ready."
GALLERY_DOWNLOADING = "Omniglot is not on this machine; downloading the evaluation set in the background."
GALLERY_UNAVAILABLE = "Omniglot is not available on this machine."


def gallery_notice(kind: str, status: str, tr=None) -> str:
    """One line saying where the gallery's characters come from (``tr(key)``: the texts in a language)."""
    tr = tr or (lambda key: STATIC[key])
    if kind == "omniglot":
        return tr("gallery_omniglot")
    extra = tr({"loading": "gallery_loading", "downloading": "gallery_downloading"}.get(status, "gallery_unavailable"))
    return f"{tr('gallery_synthetic')} {extra}"


#: Every static text that is not in HEADINGS, LABELS or INFO, by key (``header`` and ``learn`` are filled in
#: with the registry's algorithms in each language by :mod:`~metademo.ui.i18n`).
STATIC = {
    "header": HEADER_TEMPLATE, "classifier_intro": CLASSIFIER_INTRO, "sketch_help": SKETCH_HELP,
    "webcam_help": WEBCAM_HELP, "live_help": LIVE_HELP, "capture_help": CAPTURE_HELP, "query_help": QUERY_HELP,
    "task_help": TASK_HELP, "outer_loop_help": OUTER_LOOP_HELP, "export_help": EXPORT_HELP,
    "compare_intro": COMPARE_INTRO, "sine_intro": SINE_INTRO, "sine_train_help": SINE_TRAIN_HELP,
    "learn": LEARN_TEMPLATE, "stable_loops": STABLE_LOOPS, "three_pictures": THREE_PICTURES,
    "accuracy_missing": ACCURACY_MISSING,
    "api_help": API_HELP.replace("{url}", "http://127.0.0.1:7860/"),
    "gallery_omniglot": GALLERY_OMNIGLOT, "gallery_synthetic": GALLERY_SYNTHETIC,
    "gallery_loading": GALLERY_LOADING, "gallery_downloading": GALLERY_DOWNLOADING,
    "gallery_unavailable": GALLERY_UNAVAILABLE,
    "navigation_intro": NAVIGATION_INTRO, "episode_hint": EPISODE_HINT, "nav_hint": NAV_HINT,
    **{f"tab_{key}": value for key, value in TABS.items()},
}
ALGORITHM_NOTES = {name: _note(info) for name, info in INFO_OF.items()}
