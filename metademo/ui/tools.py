"""The endpoint for programs and agents: ``/classify_images``, images as data URLs inside one JSON request.

``/classify`` takes files, which a client uploads before the call (``gradio_client`` sends one request per
file). Here a whole task travels in the call itself, so a program waits for one request and an agent can
call it as an MCP tool (the app serves Gradio's MCP server; this function's docstring is the tool's
description and its ``Args:`` the description of each argument). Same answer as ``/classify``.
"""

from metademo import api

from . import handlers as h


def _images(values, what: str):
    """Preprocessed images from a list of data URLs; errors name the image ("Support image 3: ...")."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise h.user_error(f"{what}_images: give a list of images as data URLs ('data:image/png;base64,...').")
    h.checked(api.check_image_count, len(values), f"{what}_images")
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.startswith("data:"):
            raise h.user_error(f"{what.capitalize()} image {i + 1}: expected a data URL such as "
                               f"'data:image/png;base64,...', got {str(value)[:40]!r}.")
    return h.prepare_naming(list(values), lambda i, reason: f"{what.capitalize()} image {i + 1}: {reason}")


@h.friendly
def classify_images(support_images: list[str], support_labels: list[str], query_images: list[str],
                    algorithm: str = "protonet", steps: int | None = None, lr: float | None = None) -> dict:
    """Few-shot classification of hand-drawn characters or symbols: learn new classes from a few labelled
    example images, then tell which class each query image belongs to. A model meta-trained on Omniglot
    (1,623 handwritten characters from 50 alphabets) adapts to the examples in well under a second; it knows nothing of the
    classes beforehand. Works with drawings, scans or photos of a single dark-on-light (or light-on-dark)
    character per image.

    Args:
        support_images: the labelled example images, one or more per class (5 per class works well), each a data URL of an image file, e.g. "data:image/png;base64,iVBORw0KG..." (PNG, JPEG, WebP, GIF..., any size).
        support_labels: the class name of each support image, in the same order, e.g. ["alpha", "alpha", "beta", "beta"]; 2 to 20 different classes.
        query_images: the images to classify, data URLs like support_images.
        algorithm: the meta-learner, one of {algorithms}; those without inner steps ({no_steps}) are the fastest.
        steps: inner gradient steps of the adaptation, 0 to 100; null for the model's default. Ignored by {no_steps}.
        lr: the inner learning rate, above 0 and at most 10; null for the model's default. Ignored by {no_steps}.

    Returns:
        a dict: "classes" (the class names, sorted), "probabilities" (one row per query image, one column
        per class in the order of "classes"), "predictions" (the most probable class of each query image),
        "history" (support loss and accuracy after each inner step), "steps", "lr", "diverged", "algorithm".
    """
    name = h.algorithm_name(algorithm)
    steps, lr = h.steps_and_lr(steps, lr)
    support = _images(support_images, "support")
    labels = h._labels(support_labels, len(support))
    queries = _images(query_images, "query")
    return h.classification(name, support, labels, queries, steps, lr)


def _describe_algorithms(doc: str) -> str:
    """The docstring with the algorithms named from the registry (the MCP tool's schema reads it)."""
    infos = api.algorithm_info()
    names = [f'"{name}" ({info.title})' for name, info in infos.items()]
    no_steps = " and ".join(f'"{name}"' for name, info in infos.items() if not info.adapts_by_steps)
    return doc.replace("{algorithms}", ", ".join(names)).replace("{no_steps}", no_steps or "none")


classify_images.__doc__ = _describe_algorithms(classify_images.__doc__)
