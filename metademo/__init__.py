"""metademo: see meta-learning work. Meta-learners of three families (those that learn an initialisation
for a few gradient steps, those that compare embeddings with a fixed metric, and one that learns the
comparison itself), pretrained on Omniglot, adapting to new classes from a few examples; the algorithms
are those of ``metademo.available_algorithms()``.

    import metademo
    clf = metademo.load_pretrained("maml")
    fitted = clf.fit(images, labels)
    fitted.predict_proba(queries)
"""

__version__ = "0.1.0"
__all__ = ["available_algorithms", "load_pretrained", "load_classifier", "load_fitted", "prepare", "default_device",
           "adaptation_precision",
           "MetaClassifier", "FittedClassifier", "Preprocessed", "Task", "load_task", "save_task",
           "__version__"]


def __getattr__(name):
    # The API (and torch with it) is imported on first use (PEP 562), so that the app can serve its
    # page before torch has loaded.
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'metademo' has no attribute {name!r}")
