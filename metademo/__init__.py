"""metademo: see meta-learning work. MAML, first-order MAML, Meta-SGD, Reptile and Prototypical
Networks, pretrained on Omniglot, adapting to new classes from a few examples.

    import metademo
    clf = metademo.load_pretrained("maml")
    fitted = clf.fit(images, labels)
    fitted.predict_proba(queries)
"""

from .api import (
                  FittedClassifier,
                  MetaClassifier,
                  available_algorithms,
                  default_device,
                  load_classifier,
                  load_pretrained,
)

__version__ = "0.1.0"
__all__ = ["available_algorithms", "load_pretrained", "load_classifier", "default_device", "MetaClassifier",
           "FittedClassifier", "__version__"]
