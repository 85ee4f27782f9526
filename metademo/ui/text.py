"""Every sentence the app shows: tab introductions, help texts and the "Learn" tab.

Kept apart from the layout so that a teacher can reword the page without reading any Gradio code.
This module imports nothing heavy (no torch), so the page can be built before the models load.
"""

from __future__ import annotations

from pathlib import Path

#: (title, registry name) of every algorithm, in the order of ``metademo.available_algorithms()``.
#: The titles equal ``get_algorithm(name).title`` (a test checks it); they are repeated here so that
#: the page can be laid out without importing torch, which keeps the cold start short.
ALGORITHMS: list[tuple[str, str]] = [
    ("MAML", "maml"),
    ("first-order MAML", "fomaml"),
    ("Meta-SGD", "metasgd"),
    ("Reptile", "reptile"),
    ("Prototypical Networks", "protonet"),
]
TITLES = {name: title for title, name in ALGORITHMS}

ACCURACY_FILE = Path(__file__).resolve().parents[2] / "docs" / "accuracy.md"

HEADER = """\
# metademo: learning to learn, live
Meta-learning trains a model on *many small tasks* so that it can learn a **new** task from a
handful of examples. Here five meta-learners, pretrained on the Omniglot alphabets, meet characters
they have never seen. Give them a few examples of each class and watch them adapt.
"""

CLASSIFIER_INTRO = """\
**How to use:** 1) fill each class with a few examples: *upload* pictures, *draw* on the pad and
press **Add drawing**, or press **Pick from gallery** for drawings of a character the models never
saw; 2) press **Adapt** and watch the model learn from them (the *support set*); 3) add *queries*
and read how sure the model is about each class.
"""

SKETCH_HELP = ("Draw one character, then press **Add drawing** in a class or under *Queries*. Clear the pad "
               "with its bin icon (top right) before the next drawing. If the pad says *select the draw tool*, "
               "click the pen icon on its left.")

COMPARE_INTRO = """\
One *episode* (N unseen characters, K examples of each, and 5 more drawings of each as queries
with known answers) goes through every algorithm. The chart shows the share of queries each one
gets right after every inner step; ProtoNet has no inner loop, so it is a single point at step 0.
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

INFO = {
    "num_classes": "How many classes (characters) the model must tell apart.",
    "k_gallery": "How many drawings 'Pick from gallery' puts in a class.",
    "algorithm": "Which meta-learner adapts to your classes.",
    "steps": "Inner steps: gradient steps taken on your examples. 0 = the pretrained starting point.",
    "lr": "Inner learning rate: the size of each step. Far too large makes the model diverge.",
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

ALGORITHM_NOTES = {
    "maml": "MAML learned a starting point from which a few gradient steps on your examples fit them well.",
    "fomaml": "First-order MAML: like MAML, but cheaper to meta-train (it ignores second derivatives).",
    "metasgd": "Meta-SGD learned its starting point *and* a step size for every weight (the learning rate "
               "here rescales them).",
    "reptile": "Reptile learned its starting point by repeatedly nudging it towards weights that fit single tasks.",
    "protonet": "Prototypical Networks have no inner steps: each class is the average embedding (its "
                "*prototype*) of its examples, and a query goes to the nearest prototype. Steps and learning "
                "rate do not apply; the chart shows the embeddings instead of a learning curve.",
}

LEARN = """\
## What is meta-learning?
A normal classifier learns *one* task from thousands of labelled examples. A **meta-learner** is
trained on thousands of *small tasks* (here: tell apart 5 or 20 handwritten characters from 1 or 5
examples of each) so that it becomes good at **learning a new small task quickly**.

### Support set and query set
Every task has a **support set**, the few labelled examples the model may learn from (in the app:
the examples in each class), and a **query set**, new examples of the same classes that it must then
classify (in the app: the queries). During meta-training the answers to the queries are known and
tell the meta-learner how well its learning worked.

### Inner loop and outer loop
* The **inner loop** adapts the model to one task: a few gradient steps on the support set (the
  *inner steps*, with the *inner learning rate*). This is what you watch when you press **Adapt**.
* The **outer loop** improves the starting point itself, across many tasks, so that the inner loop
  works well. It ran once, before this demo (the pretrained models); on the sine-wave tab you can run
  it yourself.

### The algorithms
* **MAML** (Finn, Abbeel & Levine 2017) learns an initial set of weights such that a few gradient
  steps on any new task give a good model. Its outer loop differentiates *through* the inner steps.
* **First-order MAML** drops the second derivatives from that outer-loop gradient. It is cheaper
  and, on Omniglot, nearly as good.
* **Meta-SGD** (Li et al. 2017) also learns a separate inner learning rate (and direction) for every
  weight, so even a single step can go a long way.
* **Reptile** (Nichol, Achiam & Schulman 2018) trains on a task for several steps and then moves the
  initial weights a little towards the result. No gradient flows through the inner loop.
* **Prototypical Networks** (Snell, Swersky & Zemel 2017) learn an embedding in which each class is
  summed up by the average of its examples (its *prototype*); a query belongs to the nearest
  prototype. There is no inner loop at all.

In this app the gradient-based methods start each task from a *prototype* head (Triantafillou et al.
2020): at step 0 they already classify like a nearest-prototype model, and the inner steps refine it.

### Omniglot
Omniglot (Lake et al. 2015) has 1,623 handwritten characters from 50 alphabets, each drawn by 20
people. The models were meta-trained on the *background* alphabets only; the gallery and the
comparison use the 20 *evaluation* alphabets, which they have never seen.
"""

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


def accuracy_markdown(path: Path | None = None) -> str:
    """The accuracy table written by the benchmark (``docs/accuracy.md``), or a "not measured yet" note."""
    path = ACCURACY_FILE if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ACCURACY_MISSING
    return text or ACCURACY_MISSING


def gallery_notice(kind: str, status: str) -> str:
    """One line saying where the gallery's characters come from."""
    if kind == "omniglot":
        return ("Gallery: **Omniglot evaluation alphabets** (659 characters the models never saw during "
                "meta-training).")
    extra = {
        "loading": "Omniglot is being loaded; the gallery switches over when it is ready.",
        "downloading": "Omniglot is not on this machine; downloading the evaluation set in the background.",
    }.get(status, "Omniglot is not available on this machine.")
    return f"Gallery: **synthetic glyphs** (made-up characters drawn by a program). {extra}"
